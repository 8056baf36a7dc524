// The key directory client's state in IndexedDB: integrity only, never a key or a secret. Per
// pinned log (by origin): the largest checkpoint verified (its signed note, and the log key it
// was verified with), and per practice the highest group epoch seen and the sequence and head of
// the membership chain verified last (as colloque.client's membership_sequences), and
// fingerprints a person confirmed. A server can wipe none of it; the browser's user can, which
// makes this browser a new device (trust on first use again, witnesses still required).
const DATABASE = "colloque-key-directory";
const STORE = "logs";

/** A group's membership chain as verified last: its sequence and its head (the last link's leaf
 * hash, base64). `head` is null only in a record saved before heads were kept, until the next
 * chain verified replaces it. */
export interface MembershipSeen {
  sequence: number;
  head: string | null;
}

export interface DirectoryState {
  checkpoint: { logPublicKey: string; note: string } | null;
  groupEpochs: Record<string, number>;
  membershipSequences: Record<string, MembershipSeen>;
  /** user id -> the fingerprint a person compared and confirmed. */
  confirmed: Record<string, string>;
}

export function emptyState(): DirectoryState {
  return { checkpoint: null, groupEpochs: {}, membershipSequences: {}, confirmed: {} };
}

/** A record from before heads were kept holds the sequence alone: it is checked for length only
 * until a chain verifies again and its head is saved (colloque.client.directory reads it alike). */
function withHeads(saved: Record<string, MembershipSeen | number>): Record<string, MembershipSeen> {
  return Object.fromEntries(Object.entries(saved).map(([id, seen]) => [id, typeof seen === "number" ? { sequence: seen, head: null } : seen]));
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
    const state = { ...emptyState(), ...saved };
    return { ...state, membershipSequences: withHeads(state.membershipSequences as Record<string, MembershipSeen | number>) };
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
