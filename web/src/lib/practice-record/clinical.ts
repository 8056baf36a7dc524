// The practitioners' key group (notes) as a practitioner's browser keeps it healthy when it opens
// a patient's record, the "next client to act" rule of docs/crypto.md: it makes the group when
// the practice has none, rotates it when a practitioner left (then re-wraps the notes' item keys
// of older epochs), and seals the current key for practitioners who joined since. Every key is
// made and opened in the crypto worker; this only moves what comes out to the API. A
// practitioner whose device holds no wrap of the current key yet can do none of it: they wait
// for a colleague's device to share it.
import type { CryptoClient } from "../../crypto/client";
import type { DirectoryPin, ListedMember, MemberRole, MemberWrap, RotationHandle, StaleItemWrap, UnlockedKeys } from "../../crypto/protocol";
import { ApiFailure, ok, sessionApi } from "../api/session";
import { fromBase64Url, toBase64Url } from "../base64url";
import { untilProven } from "../keys/directory";

/** What this visit did to the group, or that this device still waits for the key ("failed": the
 * upkeep could not finish, e.g. the network; the page says so and opens what it can). */
export type ClinicalState = "ready" | "created" | "rotated" | "shared" | "waiting" | "failed";

export interface ClinicalGroup {
  state: ClinicalState;
  /** This practitioner's wraps of every epoch (empty while waiting): notes open with them. */
  wraps: Uint8Array[];
}

export interface ClinicalPlace {
  crypto: CryptoClient;
  keys: UnlockedKeys;
  practiceId: string;
  pin: DirectoryPin;
}

/** Item key wraps re-wrapped per request (the API takes at most this many). */
const REWRAP_BATCH = 100;

function path(place: ClinicalPlace) {
  return { params: { path: { practice_id: place.practiceId } } };
}

async function members(place: ClinicalPlace) {
  return ok(sessionApi.GET("/api/v1/practices/{practice_id}/clinical-key-group/members", path(place)));
}

async function group(place: ClinicalPlace) {
  return ok(sessionApi.GET("/api/v1/practices/{practice_id}/clinical-key-group", path(place)));
}

type Listed = Awaited<ReturnType<typeof members>>["members"];

function listed(found: Listed): ListedMember[] {
  return found.map((m) => ({ accountId: m.account_id, role: m.role as MemberRole, hasKey: m.encryption_key !== null }));
}

function wire(wraps: MemberWrap[]) {
  return wraps.map((w) => ({ account_id: w.accountId, wrap: toBase64Url(w.wrap) }));
}

function conflict(failure: unknown): boolean {
  return failure instanceof ApiFailure && failure.status === 409;
}

/** Makes, rotates or shares the group as needed, then gives this practitioner's wraps. Another
 * practitioner's browser doing the same at the same moment is no failure (409): the state is
 * read again and this one goes on from there. */
export async function keepClinicalGroup(place: ClinicalPlace): Promise<ClinicalGroup> {
  let state: ClinicalState = "ready";
  let found = await members(place);
  if (found.epoch === null) {
    try {
      await create(place, found.members);
      state = "created";
    } catch (failure) {
      if (!conflict(failure)) throw failure;
    }
    found = await members(place);
  }
  let current = await group(place);
  const mine = () => current.wraps.map((w) => fromBase64Url(w.wrap));
  if (!current.wraps.some((w) => w.epoch === current.epoch)) return { state: "waiting", wraps: [] };
  if (current.rotation_due) {
    try {
      await rotate(place, mine(), found.members);
      state = "rotated";
    } catch (failure) {
      if (!conflict(failure)) throw failure;
    }
    [found, current] = await Promise.all([members(place), group(place)]);
    if (!current.wraps.some((w) => w.epoch === current.epoch)) return { state: "waiting", wraps: [] };
  }
  const pending = found.members.filter((m) => m.encryption_key !== null && !m.wrapped).map((m) => m.account_id);
  if (pending.length > 0) {
    const made = await untilProven(
      (answers) =>
        place.crypto.call("wrapClinicalForPending", { pin: place.pin, keys: place.keys.keys, practiceId: place.practiceId, clinicalWraps: mine(), pending, answers }),
      {},
    );
    if (made.wraps.length > 0) {
      try {
        await ok(sessionApi.POST("/api/v1/practices/{practice_id}/clinical-key-group/wraps", { ...path(place), body: { epoch: made.epoch, wraps: wire(made.wraps) } }));
        if (state === "ready") state = "shared";
      } catch (failure) {
        if (!conflict(failure)) throw failure;
      }
    }
  }
  return { state, wraps: mine() };
}

async function create(place: ClinicalPlace, found: Listed): Promise<void> {
  const made = await untilProven(
    (answers) => place.crypto.call("createClinicalGroup", { pin: place.pin, keys: place.keys.keys, practiceId: place.practiceId, members: listed(found), answers }),
    {},
  );
  await ok(
    sessionApi.POST("/api/v1/practices/{practice_id}/clinical-key-group", {
      ...path(place),
      body: { public_key: toBase64Url(made.publicKey), wraps: wire(made.wraps), statement: toBase64Url(made.statement) },
    }),
  );
}

/** The next epoch for the practitioners the signed chain attests now, then every clinical item
 * key wrap of an older epoch re-wrapped for it (the notes stay readable, by practitioners only). */
async function rotate(place: ClinicalPlace, wraps: Uint8Array[], found: Listed): Promise<void> {
  const made = await untilProven(
    (answers) =>
      place.crypto.call("rotateClinicalGroup", { pin: place.pin, keys: place.keys.keys, practiceId: place.practiceId, clinicalWraps: wraps, members: listed(found), answers }),
    {},
  );
  try {
    await ok(
      sessionApi.POST("/api/v1/practices/{practice_id}/clinical-key-group/rotations", {
        ...path(place),
        body: { epoch: made.epoch, public_key: toBase64Url(made.publicKey), wraps: wire(made.wraps), statement: toBase64Url(made.statement) },
      }),
    );
    await rewrap(place, made.rotation, await staleWraps(place));
  } finally {
    await place.crypto.call("forget", { handle: made.rotation });
  }
}

/** Every clinical item key wrap of an older epoch, read page by page before any is replaced. */
async function staleWraps(place: ClinicalPlace): Promise<StaleItemWrap[]> {
  const out: StaleItemWrap[] = [];
  let after: string | undefined;
  for (;;) {
    const query = after === undefined ? { limit: REWRAP_BATCH, group: "clinical" as const } : { limit: REWRAP_BATCH, group: "clinical" as const, after };
    const page = await ok(sessionApi.GET("/api/v1/practices/{practice_id}/item-key-wraps/stale", { params: { path: { practice_id: place.practiceId }, query } }));
    out.push(...page.wraps.map((w) => ({ itemId: w.item_id, epoch: w.epoch, wrap: fromBase64Url(w.wrap) })));
    if (page.next_after === null) return out;
    after = page.next_after;
  }
}

async function rewrap(place: ClinicalPlace, rotation: RotationHandle, stale: StaleItemWrap[]): Promise<void> {
  for (let start = 0; start < stale.length; start += REWRAP_BATCH) {
    const { wraps } = await place.crypto.call("rewrapItemKeys", { rotation, wraps: stale.slice(start, start + REWRAP_BATCH) });
    if (wraps.length > 0) {
      await ok(sessionApi.POST("/api/v1/practices/{practice_id}/item-key-wraps", { ...path(place), body: { wraps: wraps.map(toBase64Url), group: "clinical" } }));
    }
  }
}

/** This practitioner's wraps as the server holds them, when the upkeep failed part way: the
 * notes already sealed for the group may still open. Empty when there is no group or no answer. */
export async function myClinicalWraps(place: ClinicalPlace): Promise<Uint8Array[]> {
  try {
    return (await group(place)).wraps.map((w) => fromBase64Url(w.wrap));
  } catch {
    return [];
  }
}
