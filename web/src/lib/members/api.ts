// The members page's calls: the key group's state and members, the pending invitations, and the
// admin's key operations, each made in the crypto worker (group-admin.ts) from what the key
// directory proves and posted here: create the group, share the key with a newcomer, and remove
// a member, which signs the removal, rotates the group and re-wraps the practice's item keys
// batch by batch, telling `progress` how far it got; and change a member's role (signed too).
import type { CryptoClient } from "../../crypto/client";
import type { ListedMember, MemberRole, MemberWrap, RotationHandle, StaleItemWrap, UnlockedKeys } from "../../crypto/protocol";
import { ApiFailure, ok, sessionApi } from "../api/session";
import type { components } from "../api/schema";
import { fromBase64Url, toBase64Url } from "../base64url";
import { untilProven } from "../keys/directory";
import type { MembersData } from "./data";

export type Member = components["schemas"]["MemberOut"];
export type Invitation = components["schemas"]["InvitationOut"];

export interface GroupState {
  /** null: the practice has no key group yet. */
  epoch: number | null;
  rotationDue: boolean;
  members: Member[];
}

/** Item key wraps re-wrapped per request (the API takes at most this many). */
export const REWRAP_BATCH = 100;

function path(data: MembersData) {
  return { params: { path: { practice_id: data.practiceId } } };
}

export async function readGroup(data: MembersData): Promise<GroupState> {
  const listed = await ok(sessionApi.GET("/api/v1/practices/{practice_id}/key-group/members", path(data)));
  let rotationDue = false;
  if (listed.epoch !== null) {
    const group = await groupWraps(data);
    rotationDue = group.rotation_due;
  }
  return { epoch: listed.epoch, rotationDue, members: listed.members };
}

/** Which practitioners hold the current key of the practitioners' group (notes): one flag each,
 * readable by every member of the staff. `held` is keyed by lower-case account id. */
export interface ClinicalHolders {
  /** null: no practitioner's device made the group yet. */
  epoch: number | null;
  held: Record<string, boolean>;
}

export async function readClinicalHolders(data: MembersData): Promise<ClinicalHolders> {
  const found = await ok(sessionApi.GET("/api/v1/practices/{practice_id}/clinical-key-group/holders", path(data)));
  return { epoch: found.epoch, held: Object.fromEntries(found.holders.map((h) => [h.account_id.toLowerCase(), h.wrapped])) };
}

async function groupWraps(data: MembersData) {
  return ok(sessionApi.GET("/api/v1/practices/{practice_id}/key-group", path(data)));
}

export async function readInvitations(data: MembersData): Promise<Invitation[]> {
  return ok(sessionApi.GET("/api/v1/practices/{practice_id}/invitations", path(data)));
}

/** Whom a practitioner invitation is for: one of this practice's practitioners (by id), or
 * somebody who already practises at another practice and brings their own. */
export type Invitee = { practitionerId: string } | "elsewhere" | null;

export async function invite(data: MembersData, email: string, role: MemberRole, invitee: Invitee): Promise<Invitation> {
  const practitioner_id = invitee !== null && invitee !== "elsewhere" ? invitee.practitionerId : null;
  const body = { email, role, practitioner_id, practises_elsewhere: invitee === "elsewhere" };
  return ok(sessionApi.POST("/api/v1/practices/{practice_id}/invitations", { ...path(data), body }));
}

export async function revoke(data: MembersData, invitationId: string): Promise<void> {
  await ok(sessionApi.DELETE("/api/v1/practices/{practice_id}/invitations/{invitation_id}", { params: { path: { practice_id: data.practiceId, invitation_id: invitationId } } }));
}

function listed(members: Member[]): ListedMember[] {
  return members.map((m) => ({ accountId: m.account_id, role: m.role as MemberRole, hasKey: m.encryption_key !== null }));
}

function wire(wraps: MemberWrap[]) {
  return wraps.map((w) => ({ account_id: w.accountId, wrap: toBase64Url(w.wrap) }));
}

async function appendStatements(data: MembersData, statements: Uint8Array[]): Promise<void> {
  if (statements.length === 0) return;
  await ok(sessionApi.POST("/api/v1/practices/{practice_id}/key-group/memberships", { ...path(data), body: { statements: statements.map(toBase64Url) } }));
}

/** Epoch 1 of the practice's key group, its membership chain signed first if it has none. */
export async function createGroup(crypto: CryptoClient, data: MembersData, keys: UnlockedKeys, members: Member[]): Promise<void> {
  // The chain so far comes from the practice's API, not the key directory (no key yet): the
  // worker proves its leaves against the log all the same.
  const chain = await ok(sessionApi.GET("/api/v1/practices/{practice_id}/key-group/memberships", path(data)));
  const made = await untilProven(
    (answers) => crypto.call("createKeyGroup", { pin: data.pin, keys: keys.keys, practiceId: data.practiceId, members: listed(members), answers }),
    { [`/api/v1/practices/${data.practiceId.toLowerCase()}/key-group/memberships`]: chain },
  );
  await appendStatements(data, made.statements);
  await ok(
    sessionApi.POST("/api/v1/practices/{practice_id}/key-group", {
      ...path(data),
      body: { public_key: toBase64Url(made.publicKey), wraps: wire(made.wraps), statement: toBase64Url(made.statement) },
    }),
  );
}

/** The current key sealed for `member`, attested first when the signed chain does not name them. */
export async function shareKey(crypto: CryptoClient, data: MembersData, keys: UnlockedKeys, member: Member): Promise<void> {
  const wrapFor = async () => {
    const group = await groupWraps(data);
    return untilProven((answers) =>
      crypto.call("wrapForPending", {
        pin: data.pin,
        keys: keys.keys,
        practiceId: data.practiceId,
        groupWraps: group.wraps.map((w) => fromBase64Url(w.wrap)),
        pending: [member.account_id],
        answers,
      }),
    {});
  };
  let made = await wrapFor();
  if (made.wraps.length === 0) {
    const signed = await untilProven(
      (answers) => crypto.call("signMembership", { pin: data.pin, keys: keys.keys, practiceId: data.practiceId, memberId: member.account_id, role: member.role as MemberRole, answers }),
      {},
    );
    await appendStatements(data, [signed.statement]);
    made = await wrapFor();
  }
  if (made.wraps.length === 0) throw new ApiFailure(0, "not-attested", undefined, undefined);
  await ok(sessionApi.POST("/api/v1/practices/{practice_id}/key-group/wraps", { ...path(data), body: { epoch: made.epoch, wraps: wire(made.wraps) } }));
}

/** How far a removal got: `done` of `total` steps (signing and rotating are one step each, then
 * one per item key re-wrapped). */
export interface Progress {
  done: number;
  total: number;
}

/** Removes `memberId` with a signed statement, then rotates the group for the members left and
 * re-wraps every item key of an older epoch for the new one. */
export async function removeMember(crypto: CryptoClient, data: MembersData, keys: UnlockedKeys, memberId: string, progress: (p: Progress) => void): Promise<void> {
  progress({ done: 0, total: 2 });
  const removal = await untilProven(
    (answers) => crypto.call("signMembership", { pin: data.pin, keys: keys.keys, practiceId: data.practiceId, memberId, role: "removed", answers }),
    {},
  );
  await appendStatements(data, [removal.statement]);
  progress({ done: 1, total: 2 });
  await rotate(crypto, data, keys, memberId, progress);
}

/** The next epoch for the members the signed chain attests now (after a removal, or to clear a
 * rotation still due), then the item keys re-wrapped. */
export async function rotate(crypto: CryptoClient, data: MembersData, keys: UnlockedKeys, removedId: string | null, progress: (p: Progress) => void): Promise<void> {
  const base = removedId === null ? 0 : 1;
  const members = (await ok(sessionApi.GET("/api/v1/practices/{practice_id}/key-group/members", path(data)))).members;
  const group = await groupWraps(data);
  // A fresh check: the chain moved on with the removal.
  const made = await untilProven(
    (answers) =>
      crypto.call("rotateKeyGroup", {
        pin: data.pin,
        keys: keys.keys,
        practiceId: data.practiceId,
        removedId,
        groupWraps: group.wraps.map((w) => fromBase64Url(w.wrap)),
        members: listed(members),
        answers,
      }),
    {},
  );
  try {
    await ok(
      sessionApi.POST("/api/v1/practices/{practice_id}/key-group/rotations", {
        ...path(data),
        body: { epoch: made.epoch, public_key: toBase64Url(made.publicKey), wraps: wire(made.wraps), statement: toBase64Url(made.statement) },
      }),
    );
    const stale = await staleWraps(data);
    const total = base + 1 + stale.length;
    progress({ done: base + 1, total });
    await rewrap(crypto, data, made.rotation, stale, (moved) => progress({ done: base + 1 + moved, total }));
  } finally {
    await crypto.call("forget", { handle: made.rotation });
  }
}

/** Every item key wrap of an older epoch, read page by page before any is replaced. */
async function staleWraps(data: MembersData): Promise<StaleItemWrap[]> {
  const out: StaleItemWrap[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await ok(
      sessionApi.GET("/api/v1/practices/{practice_id}/item-key-wraps/stale", {
        params: { path: { practice_id: data.practiceId }, query: after === undefined ? { limit: REWRAP_BATCH } : { limit: REWRAP_BATCH, after } },
      }),
    );
    out.push(...page.wraps.map((w) => ({ itemId: w.item_id, epoch: w.epoch, wrap: fromBase64Url(w.wrap) })));
    if (page.next_after === null) return out;
    after = page.next_after;
  }
}

async function rewrap(crypto: CryptoClient, data: MembersData, rotation: RotationHandle, stale: StaleItemWrap[], moved: (count: number) => void): Promise<void> {
  for (let start = 0; start < stale.length; start += REWRAP_BATCH) {
    const batch = stale.slice(start, start + REWRAP_BATCH);
    const { wraps } = await crypto.call("rewrapItemKeys", { rotation, wraps: batch });
    if (wraps.length > 0) await ok(sessionApi.POST("/api/v1/practices/{practice_id}/item-key-wraps", { ...path(data), body: { wraps: wraps.map(toBase64Url), group: "practice" } }));
    moved(start + batch.length);
  }
}

/** A membership statement's type byte (docs/crypto.md 5.12): the practice signs its memberships
 * when its log holds one. Only where to go is decided here; the worker verifies the chain. */
const MEMBERSHIP_TYPE = 0x0b;

/** Gives `memberId` another role (a practitioner names their agenda). Where the practice signs its
 * memberships, the worker signs the statement at the chain's next sequence, over the chain it
 * verified; a 409 means the chain moved on (or the role is already theirs). */
export async function changeRole(crypto: CryptoClient, data: MembersData, keys: UnlockedKeys, memberId: string, role: MemberRole, practitionerId: string | null): Promise<void> {
  const log = await ok(sessionApi.GET("/api/v1/practices/{practice_id}/key-group/memberships", path(data)));
  const signed = log.chain.some((leaf) => fromBase64Url(leaf.leaf)[1] === MEMBERSHIP_TYPE);
  let statement: string | null = null;
  if (signed) {
    const made = await untilProven(
      (answers) => crypto.call("signMembership", { pin: data.pin, keys: keys.keys, practiceId: data.practiceId, memberId, role, answers }),
      {},
    );
    statement = toBase64Url(made.statement);
  }
  await ok(
    sessionApi.PATCH("/api/v1/practices/{practice_id}/members/{account_id}", {
      params: { path: { practice_id: data.practiceId, account_id: memberId } },
      body: { role, practitioner_id: practitionerId, statement },
    }),
  );
}

/** Ends every session of a member (browsers, apps, tokens): a lost phone, a leaked token. The
 * member is told by mail and signs in again. Returns how many ended. */
export async function endMemberSessions(data: MembersData, accountId: string): Promise<number> {
  const params = { params: { path: { practice_id: data.practiceId, account_id: accountId } } };
  return (await ok(sessionApi.POST("/api/v1/practices/{practice_id}/members/{account_id}/sessions/revoke", params))).ended_sessions;
}
