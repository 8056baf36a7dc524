// The key directory client's state in IndexedDB: integrity only, never a key or a secret. Per
// pinned log (by origin): the largest checkpoint verified (its signed note, and the log key it
// was verified with), and per practice the highest group epoch and membership sequence seen, and
// fingerprints a person confirmed. A server can wipe none of it; the browser's user can, which
// makes this browser a new device (trust on first use again, witnesses still required).
const DATABASE = "colloque-key-directory";
const STORE = "logs";

export interface DirectoryState {
  checkpoint: { logPublicKey: string; note: string } | null;
  groupEpochs: Record<string, number>;
  membershipSequences: Record<string, number>;
  /** user id -> the fingerprint a person compared and confirmed. */
  confirmed: Record<string, string>;
}

export function emptyState(): DirectoryState {
  return { checkpoint: null, groupEpochs: {}, membershipSequences: {}, confirmed: {} };
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB could not open"));
  });
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB failed"));
  });
}

export async function loadState(origin: string): Promise<DirectoryState> {
  const db = await open();
  try {
    const saved = (await done(db.transaction(STORE).objectStore(STORE).get(origin))) as Partial<DirectoryState> | undefined;
    return { ...emptyState(), ...saved };
  } finally {
    db.close();
  }
}

export async function saveState(origin: string, state: DirectoryState): Promise<void> {
  const db = await open();
  try {
    await done(db.transaction(STORE, "readwrite").objectStore(STORE).put(state, origin));
  } finally {
    db.close();
  }
}
