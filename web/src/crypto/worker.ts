/// <reference lib="webworker" />
// The crypto worker: the only place libsodium runs and secrets live. It keeps the KEK and the
// unlocked private keys in memory, behind opaque handles, and answers the page's typed requests
// (protocol.ts). Nothing secret is written to any storage (the key directory's integrity-only
// state goes to IndexedDB, state.ts), and its CSP (connect-src 'none', served by
// colloque.web.security) means it cannot send anything anywhere either.
import { authorStanding, type Standing } from "./authorship";
import { KeyDirectory, NeedAnswers } from "./directory";
import { DocumentDecryptor, DocumentEncryptor, checkDigest } from "./documents";
import { fromUtf8, utf8 } from "./encoding";
import { CryptoError, KeysChanged, UnsignedMemberships, WrongContext, type FailureKind, type PendingKeyChange } from "./errors";
import * as groupAdmin from "./group-admin";
import * as groups from "./groups";
import {
  ItemKind,
  conversationId,
  documentBody,
  openItem,
  readDocumentBody,
  readItemHeader,
  readVisitReason,
  readWrapHeader,
  sealItem,
  unwrapItemKey,
  visitReasonBody,
  type KeyPairHolder,
} from "./items";
import * as keys from "./keys";
import { checkCost, deriveLoginKeys, kdfParamsFromBytes } from "./login";
import type {
  Api,
  DirectoryOutcome,
  DirectoryPin,
  DocumentHandle,
  GroupHandle,
  KekHandle,
  KeysHandle,
  ListedMember,
  MemberRole,
  OpenItem,
  OpenedAgendaReason,
  OpenedRecord,
  Operation,
  PracticeRecordItem,
  RecordKind,
  Request,
  Response,
  RotationHandle,
  SealedRecord,
  UnlockedKeys,
  UploadHandle,
} from "./protocol";
import * as practice from "./practice";
import * as sodium from "./sodium";
import { loadState, saveState } from "./state";
import { testHandlers } from "./testing/hooks";
import * as statements from "./statements";
import * as transparency from "./transparency";
import * as witness from "./witness";

declare const self: DedicatedWorkerGlobalScope;

type Secret =
  | { kind: "kek"; kek: Uint8Array }
  | { kind: "keys"; keys: keys.UserKeys }
  | { kind: "group"; key: groups.GroupKey }
  | { kind: "rotation"; older: practice.PracticeKeys; current: transparency.KeyBinding }
  | { kind: "upload"; documentId: string; streamKey: Uint8Array; stream: DocumentEncryptor }
  | { kind: "document"; documentId: string; streamKey: Uint8Array; digest: Uint8Array; stream: DocumentDecryptor | null };

const secrets = new Map<string, Secret>();

function newHandle<H extends string>(secret: Secret): H {
  const handle = `${secret.kind}:${crypto.randomUUID()}`;
  secrets.set(handle, secret);
  return handle as H;
}

class UnknownHandle extends Error {}

function kek(handle: KekHandle): Uint8Array {
  const secret = secrets.get(handle);
  if (secret?.kind !== "kek") throw new UnknownHandle("no such KEK (forgotten, or from another worker)");
  return secret.kek;
}

function userKeys(handle: KeysHandle): keys.UserKeys {
  const secret = secrets.get(handle);
  if (secret?.kind !== "keys") throw new UnknownHandle("no such keys (forgotten, or from another worker)");
  return secret.keys;
}

function holder(handle: KeysHandle | GroupHandle): KeyPairHolder {
  const secret = secrets.get(handle);
  if (secret?.kind === "keys") return { encryptionSecret: secret.keys.encryptionSecret, binding: keys.encryptionBinding(secret.keys) };
  if (secret?.kind === "group") return groups.groupHolder(secret.key);
  throw new UnknownHandle("no such keys (forgotten, or from another worker)");
}

function upload(handle: UploadHandle): Extract<Secret, { kind: "upload" }> {
  const secret = secrets.get(handle);
  if (secret?.kind !== "upload") throw new UnknownHandle("no such upload (finished, or from another worker)");
  return secret;
}

function openedDocument(handle: DocumentHandle): Extract<Secret, { kind: "document" }> {
  const secret = secrets.get(handle);
  if (secret?.kind !== "document") throw new UnknownHandle("no such document (forgotten, or from another worker)");
  return secret;
}

function forget(handle: string): void {
  const secret = secrets.get(handle);
  if (secret?.kind === "kek") sodium.wipe(secret.kek);
  if (secret?.kind === "keys") keys.wipeKeys(secret.keys);
  if (secret?.kind === "group") sodium.wipe(secret.key.secret);
  if (secret?.kind === "upload" || secret?.kind === "document") sodium.wipe(secret.streamKey);
  if (secret?.kind === "rotation") secret.older.wipe();
  secrets.delete(handle);
}

function unlocked(userKeysValue: keys.UserKeys): UnlockedKeys {
  return {
    keys: newHandle<KeysHandle>({ kind: "keys", keys: userKeysValue }),
    userId: userKeysValue.userId,
    epoch: userKeysValue.epoch,
    encryptionBinding: keys.encryptionBinding(userKeysValue),
    signingBinding: keys.signingBinding(userKeysValue),
  };
}

// Argon2id takes 64 MiB and a few hundred milliseconds: one at a time, in arrival order, so two
// requests (a double click, a login racing a recovery) never hold twice the memory.
let argon2Queue: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(run: () => T): Promise<T> {
  const next = argon2Queue.then(run, run);
  argon2Queue = next.catch(() => undefined);
  return next;
}

type Handlers = { [Op in Operation]: (params: Api[Op]["params"]) => Api[Op]["result"] | Promise<Api[Op]["result"]> };

const handlers: Handlers = {
  version: () => ({ libsodium: sodium.version() }),
  deriveLoginKeys: ({ password, kdfParams }) =>
    oneAtATime(() => {
      const derived = deriveLoginKeys(password, kdfParams);
      return { authKey: derived.authKey, kek: newHandle<KekHandle>({ kind: "kek", kek: derived.kek }) };
    }),
  createKeyBundle: ({ userId, kek: kekHandle, epoch, recoveryKdfParams }) =>
    oneAtATime(() => {
      const cost = recoveryKdfParams === undefined ? undefined : kdfParamsFromBytes(recoveryKdfParams).cost;
      if (cost !== undefined) checkCost(cost);
      const created = keys.createKeyBundle(userId, kek(kekHandle), epoch, cost);
      return { bundle: created.bundle, unlocked: unlocked(created.keys), recoveryCode: created.recoveryCode };
    }),
  unlockWithKek: ({ kek: kekHandle, userId, sealedByPassword }) => unlocked(keys.unlockWithKek(sealedByPassword, userId, kek(kekHandle))),
  unlockWithRecoveryCode: ({ userId, sealedByRecovery, recoveryCode }) =>
    oneAtATime(() => unlocked(keys.unlockWithRecoveryCode(sealedByRecovery, userId, recoveryCode))),
  newRecoveryEnvelope: ({ keys: handle, recoveryKdfParams }) =>
    oneAtATime(() => {
      const { cost } = kdfParamsFromBytes(recoveryKdfParams);
      checkCost(cost);
      return keys.newRecoveryEnvelope(userKeys(handle), cost);
    }),
  sealForKek: ({ keys: handle, kek: kekHandle }) => ({ sealedByPassword: keys.sealForKek(userKeys(handle), kek(kekHandle)) }),
  sealVisitReason: ({ keys: handle, itemId, appointmentId, visitTypeId, reason, recipients }) =>
    publicPart(sealItem(ItemKind.VisitReason, itemId, appointmentId, visitReasonBody(visitTypeId, reason), userKeys(handle), recipients)),
  sealNote: ({ keys: handle, itemId, patientId, text, recipients }) =>
    publicPart(sealItem(ItemKind.Note, itemId, patientId, utf8(text), userKeys(handle), recipients)),
  sealMessage: ({ keys: handle, itemId, conversationId: conversation, text, recipients }) =>
    publicPart(sealItem(ItemKind.Message, itemId, conversation, utf8(text), userKeys(handle), recipients)),
  openVisitReason: (params) => readVisitReason(open(params, ItemKind.VisitReason, params.appointmentId)),
  openNote: (params) => ({ text: fromUtf8(open(params, ItemKind.Note, params.patientId)) }),
  openMessage: (params) => ({ text: fromUtf8(open(params, ItemKind.Message, params.conversationId)) }),
  openDocumentDescription: (params) => {
    const info = readDocumentBody(open(params, ItemKind.Document, params.patientId));
    sodium.wipe(info.streamKey);
    return { name: info.name, mediaType: info.mediaType, digest: info.digest };
  },
  openRecords: async ({ pin, keys: handle, practiceId, patientId, kind, records, answers }) =>
    withDirectory(pin, answers, (directory) => {
      const members = directory.practiceMembers(practiceId);
      const me = userKeys(handle).userId.toLowerCase();
      directory.needUsers([...new Set(records.map((record) => record.authorId.toLowerCase()))].filter((id) => id !== me));
      return records.map((record) => openRecord(directory, members, handle, practiceId, patientId, kind, record));
    }),
  startUpload: ({ documentId }) => {
    const streamKey = sodium.randomBytes(sodium.KEY_BYTES);
    const stream = new DocumentEncryptor(documentId, streamKey);
    return { upload: newHandle<UploadHandle>({ kind: "upload", documentId, streamKey, stream }) };
  },
  encryptPiece: ({ upload: handle, piece, last }) => {
    const { stream } = upload(handle);
    const ciphertext = stream.push(piece);
    return { ciphertext: last ? concatBytes(ciphertext, stream.finish()) : ciphertext };
  },
  sealDocument: ({ keys: handle, upload: uploadHandle, patientId, name, mediaType, recipients }) => {
    const { documentId, streamKey, stream } = upload(uploadHandle);
    try {
      const body = documentBody({ name, mediaType, digest: stream.digest(), streamKey });
      return publicPart(sealItem(ItemKind.Document, documentId, patientId, body, userKeys(handle), recipients));
    } finally {
      forget(uploadHandle);
    }
  },
  decryptPiece: ({ document: handle, piece }) => {
    const secret = openedDocument(handle);
    secret.stream ??= new DocumentDecryptor(secret.documentId, secret.streamKey);
    try {
      return { plaintext: secret.stream.push(piece) };
    } catch (error) {
      secret.stream = null; // a new download starts from the beginning
      throw error;
    }
  },
  finishDownload: ({ document: handle }) => {
    const secret = openedDocument(handle);
    const stream = secret.stream ?? new DocumentDecryptor(secret.documentId, secret.streamKey);
    secret.stream = null;
    const plaintext = stream.finish();
    checkDigest(stream.digest(), secret.digest);
    return { plaintext };
  },
  openGroupKey: ({ keys: handle, wrap, expected, lastSeenEpoch }) => {
    const key = groups.openGroupKey(wrap, expected, userKeys(handle), lastSeenEpoch);
    return { group: newHandle<GroupHandle>({ kind: "group", key }), groupId: key.groupId, epoch: key.epoch };
  },
  conversationId: ({ practiceId, patientId }) => ({ conversationId: conversationId(practiceId, patientId) }),
  verifyCheckpoint: ({ note, origin, logPublicKey }) => transparency.verifyCheckpoint(note, origin, logPublicKey),
  verifyWitnessedCheckpoint: ({ note, origin, logPublicKey, witnesses, threshold, notBefore }) =>
    witness.verifyWitnessedCheckpoint(note, origin, logPublicKey, new Map(Object.entries(witnesses)), threshold, BigInt(notBefore ?? 0)),
  verifyKeyChain: ({ userId, bindings, endorsements }) => ({
    epochs: statements
      .verifyKeyChain(userId, bindings, endorsements.map(statements.endorsementFromLeaf))
      .map((link) => ({ epoch: link.encryption.epoch, kind: link.kind ?? 0 })),
  }),
  verifyMembershipChain: ({ groupId, statements: leaves, signingKeys }) => {
    const chain = statements.verifyMembershipChain(groupId, leaves.map(statements.membershipFromLeaf), statements.signingKeysOf(signingKeys));
    const members = [...chain.members()].map(([memberId, role]) => ({ memberId, role: role as 1 | 2 | 3 }));
    return { sequence: chain.sequence, head: chain.head, members };
  },
  verifyGroupEpoch: ({ statement, groupKey, membershipChain, members, signingKeys }) => {
    const keysBySigner = statements.signingKeysOf(signingKeys);
    const chain = statements.verifyMembershipChain(groupKey.subjectId, membershipChain.map(statements.membershipFromLeaf), keysBySigner);
    statements.verifyGroupEpoch(statements.groupEpochFromLeaf(statement), groupKey, chain, members, keysBySigner);
    return null;
  },
  verifyKeyBinding: ({ binding, leafIndex, proof, checkpoint }) => {
    transparency.verifyKeyBinding(binding, leafIndex, proof, checkpoint);
    return null;
  },
  verifyCheckpointConsistency: ({ previous, next, proof }) => {
    transparency.verifyCheckpointConsistency(previous, next, proof);
    return null;
  },
  provePracticeKey: ({ pin, practiceId, answers }) =>
    withDirectory(pin, answers, (directory) => {
      const binding = directory.practiceKey(practiceId);
      return { binding, fingerprint: transparency.fingerprint([binding]) };
    }),
  proveUserKey: ({ pin, userId, answers }) =>
    withDirectory(pin, answers, (directory) => {
      const binding = directory.encryptionKeyOf(userId);
      return { binding, fingerprint: transparency.fingerprint([binding]) };
    }),
  confirmKeys: async ({ origin, userId, fingerprint }) => {
    const digits = fingerprint.replace(/\s/g, "");
    if (!/^\d{30}$/.test(digits)) throw new RangeError("a fingerprint is thirty digits");
    const state = await loadState(origin);
    state.confirmed[userId.toLowerCase()] = digits;
    await saveState(origin, state);
    return null;
  },
  openMyVisitReason: async ({ keys: handle, pin, practiceId, appointmentId, itemId, envelope, wraps, answers }) => {
    const me = userKeys(handle);
    const myId = me.userId.toLowerCase();
    const authorId = readItemHeader(envelope).authorId;
    // The holder reading what they wrote themselves needs no membership chain (as read_reason).
    const author =
      authorId === myId
        ? { standing: "holder" as const, key: keys.signingBinding(me) }
        : await withDirectory(pin, answers, (directory) => ({
            standing: authorStanding(ItemKind.VisitReason, authorId, myId, directory.practiceMembers(practiceId)),
            key: directory.signingKeyOf(authorId),
          }));
    if ("need" in author) return author;
    const { standing, key } = "proven" in author ? author.proven : author;
    const wrap = wraps.find((w) => {
      const header = readWrapHeader(w);
      return header.recipientKind === transparency.SubjectKind.User && header.recipientId === myId && header.epoch === me.epoch;
    });
    if (wrap === undefined) throw new WrongContext("no wrap of this reason is for these keys");
    const opened = readVisitReason(open({ holder: handle, wrap, envelope, itemId, author: key }, ItemKind.VisitReason, appointmentId));
    return { proven: { ...opened, authorId, standing } };
  },
  openAgendaReasons: ({ pin, keys: handle, practiceId, groupWraps, items, answers }) =>
    withDirectory(pin, answers, (directory) =>
      withPracticeKeys(
        directory,
        practiceId,
        handle,
        groupWraps,
        items,
        (groupKeys, authors, item): OpenedAgendaReason => ({ appointmentId: item.appointmentId, ...practice.openGroupReason(groupKeys, authors, item) }),
        (item, refused): OpenedAgendaReason => ({ appointmentId: item.appointmentId, refused }),
      ),
    ),
  openPracticeRecords: ({ pin, keys: handle, practiceId, patientId, holderId, kind, groupWraps, clinicalWraps, items, answers }) =>
    withDirectory(pin, answers, (directory) =>
      kind === "note"
        ? openNotes(directory, practiceId, patientId, holderId, handle, groupWraps, clinicalWraps ?? [], items)
        : withPracticeKeys(
        directory,
        practiceId,
        handle,
        groupWraps,
        items,
        (groupKeys, authors, item): OpenedRecord => {
          const context = recordContext(kind, practiceId, patientId);
          const { body, standing } = practice.openGroupItem(groupKeys, authors, RECORD_KINDS[kind], item, context, holderId);
          try {
            return openedRecord(kind, item.itemId, standing, body);
          } finally {
            sodium.wipe(body);
          }
        },
        (item, refused): OpenedRecord => ({ itemId: item.itemId, refused }),
      ),
    ),
  createKeyGroup: ({ pin, keys: handle, practiceId, members, answers }) =>
    withDirectory(pin, answers, (directory) => {
      const me = userKeys(handle);
      const chain = directory.practiceChainBeforeKey(practiceId);
      const keyed = members.filter((m) => m.hasKey);
      directory.needUsers(keyed.map((m) => m.accountId));
      // A chain already there is followed; its genesis is signed here otherwise (5.12).
      const attested = chain?.members() ?? new Map<string, statements.Role>();
      const listed = keyed.map((m) => ({ memberId: m.accountId.toLowerCase(), role: ROLES[m.role] }));
      const steps = chain === null ? groupAdmin.genesisSteps(me.userId, listed) : listed.filter((m) => !attested.has(m.memberId));
      const signed = groupAdmin.signSteps(practiceId, chain, steps, me);
      const wrapped = new Set([...attested.keys(), ...steps.map((step) => step.memberId)]);
      const memberKeys = keyed.filter((m) => wrapped.has(m.accountId.toLowerCase())).map((m) => directory.encryptionKeyOf(m.accountId));
      const key = groupAdmin.newGroupKey(practiceId, groups.FIRST_EPOCH);
      try {
        const sealed = groupAdmin.sealEpoch(key, memberKeys, signed.sequence, me);
        return { statements: signed.statements, publicKey: key.publicKey, ...sealed };
      } finally {
        sodium.wipe(key.secret);
      }
    }),
  signMembership: ({ pin, keys: handle, practiceId, memberId, role, answers }) =>
    withDirectory(pin, answers, (directory) => {
      const chain = directory.practiceMembers(practiceId);
      if (chain === null) throw new WrongContext("the practice has no signed membership chain");
      const step = { memberId: memberId.toLowerCase(), role: role === "removed" ? statements.Role.Removed : ROLES[role] };
      const signed = groupAdmin.signSteps(practiceId, chain, [step], userKeys(handle));
      return { statement: signed.statements[0] as Uint8Array };
    }),
  rotateKeyGroup: ({ pin, keys: handle, practiceId, removedId, groupWraps, members, answers }) =>
    withDirectory(pin, answers, (directory) => {
      const me = userKeys(handle);
      const chain = directory.practiceMembers(practiceId);
      if (chain === null) throw new WrongContext("the practice has no signed membership chain");
      const removed = removedId?.toLowerCase();
      // A server that quietly kept the removed member would get the new key wrapped for them
      // (colloque.client.RemovalIgnored): nothing is made.
      if (removed !== undefined && (chain.members().has(removed) || members.some((m) => m.accountId.toLowerCase() === removed))) {
        throw new WrongContext("the removed member is still in the practice");
      }
      const attested = chain.members();
      const keyed = members.filter((m) => m.hasKey && attested.has(m.accountId.toLowerCase()));
      directory.needUsers(keyed.map((m) => m.accountId));
      const memberKeys = keyed.map((m) => directory.encryptionKeyOf(m.accountId));
      const older = practice.PracticeKeys.open(directory, practiceId, me, groupWraps);
      const current = directory.practiceKey(practiceId);
      const key = groupAdmin.newGroupKey(practiceId, current.epoch + 1);
      try {
        const sealed = groupAdmin.sealEpoch(key, memberKeys, chain.sequence, me);
        const rotation = newHandle<RotationHandle>({ kind: "rotation", older, current: groups.groupBinding(key) });
        return { rotation, epoch: key.epoch, publicKey: key.publicKey, ...sealed };
      } catch (error) {
        older.wipe();
        throw error;
      } finally {
        sodium.wipe(key.secret);
      }
    }),
  rewrapItemKeys: ({ rotation: handle, wraps }) => {
    const secret = secrets.get(handle);
    if (secret?.kind !== "rotation") throw new UnknownHandle("no such rotation (forgotten, or from another worker)");
    return { wraps: groupAdmin.rewrapItemKeys(wraps, secret.older.keysByEpoch(), secret.current) };
  },
  wrapForPending: ({ pin, keys: handle, practiceId, groupWraps, pending, answers }) =>
    withDirectory(pin, answers, (directory) => {
      const me = userKeys(handle);
      const chain = directory.practiceMembers(practiceId);
      if (chain === null) throw new WrongContext("the practice has no signed membership chain");
      const attested = chain.members();
      const ids = pending.map((id) => id.toLowerCase()).filter((id) => attested.has(id));
      directory.needUsers(ids);
      const memberKeys = ids.map((id) => directory.encryptionKeyOf(id));
      const opened = practice.PracticeKeys.open(directory, practiceId, me, groupWraps);
      try {
        const current = directory.practiceKey(practiceId);
        const key = opened.keysByEpoch().get(current.epoch) as groups.GroupKey;
        return { epoch: key.epoch, wraps: memberKeys.map((member) => ({ accountId: member.subjectId.toLowerCase(), wrap: groups.addMember(key, member) })) };
      } finally {
        opened.wipe();
      }
    }),
  proveClinicalKey: ({ pin, practiceId, answers }) =>
    withDirectory(pin, answers, (directory) => {
      const binding = directory.clinicalKey(practiceId);
      return { binding, fingerprint: transparency.fingerprint([binding]) };
    }),
  createClinicalGroup: ({ pin, keys: handle, practiceId, members, answers }) =>
    withDirectory(pin, answers, (directory) => {
      const me = userKeys(handle);
      const { chain, memberKeys } = clinicalMembers(directory, practiceId, me, members);
      // The secret is born here, on a practitioner's device, and leaves only sealed for each
      // practitioner: the server and the practice's other roles never see it.
      const key = groupAdmin.newGroupKey(groups.clinicalGroupId(practiceId), groups.FIRST_EPOCH);
      try {
        return { publicKey: key.publicKey, ...groupAdmin.sealEpoch(key, memberKeys, chain.sequence, me) };
      } finally {
        sodium.wipe(key.secret);
      }
    }),
  rotateClinicalGroup: ({ pin, keys: handle, practiceId, clinicalWraps, members, answers }) =>
    withDirectory(pin, answers, (directory) => {
      const me = userKeys(handle);
      const { chain, memberKeys } = clinicalMembers(directory, practiceId, me, members);
      const current = directory.clinicalKey(practiceId);
      const older = practice.PracticeKeys.openClinical(directory, practiceId, me, clinicalWraps);
      const key = groupAdmin.newGroupKey(current.subjectId, current.epoch + 1);
      try {
        const sealed = groupAdmin.sealEpoch(key, memberKeys, chain.sequence, me);
        const rotation = newHandle<RotationHandle>({ kind: "rotation", older, current: groups.groupBinding(key) });
        return { rotation, epoch: key.epoch, publicKey: key.publicKey, ...sealed };
      } catch (error) {
        older.wipe();
        throw error;
      } finally {
        sodium.wipe(key.secret);
      }
    }),
  wrapClinicalForPending: ({ pin, keys: handle, practiceId, clinicalWraps, pending, answers }) =>
    withDirectory(pin, answers, (directory) => {
      const me = userKeys(handle);
      const chain = directory.practiceMembers(practiceId);
      if (chain === null) throw new UnsignedMemberships("this practice does not sign its memberships");
      // The server's list of who is pending is a hint: only practitioners the chain attests get it.
      const ids = pending.map((id) => id.toLowerCase()).filter((id) => chain.members().get(id) === statements.Role.Practitioner);
      directory.needUsers(ids);
      const memberKeys = ids.map((id) => directory.encryptionKeyOf(id));
      const opened = practice.PracticeKeys.openClinical(directory, practiceId, me, clinicalWraps);
      try {
        const current = directory.clinicalKey(practiceId);
        const key = opened.keysByEpoch().get(current.epoch) as groups.GroupKey;
        return { epoch: key.epoch, wraps: memberKeys.map((member) => ({ accountId: member.subjectId.toLowerCase(), wrap: groups.addMember(key, member) })) };
      } finally {
        opened.wipe();
      }
    }),
  fingerprint: ({ bindings }) => ({ fingerprint: transparency.fingerprint(bindings) }),
  checkFingerprint: ({ bindings, shown }) => {
    transparency.checkFingerprint(bindings, shown);
    return null;
  },
  forget: ({ handle }) => {
    forget(handle);
    return null;
  },
  forgetAll: () => {
    for (const handle of [...secrets.keys()]) forget(handle);
    return null;
  },
  selfTest: (params) => {
    if (testHandlers.selfTest === undefined) throw new UnknownOperation("selfTest exists in test builds only");
    return testHandlers.selfTest(params);
  },
  rawOpenReasons: (params) => {
    if (testHandlers.rawOpenReasons === undefined) throw new UnknownOperation("rawOpenReasons exists in test builds only");
    return testHandlers.rawOpenReasons(params);
  },
};

class UnknownOperation extends Error {}

const ROLES: Record<MemberRole, statements.Role> = {
  admin: statements.Role.Admin,
  practitioner: statements.Role.Practitioner,
  secretary: statements.Role.Secretary,
};

/** Runs a key directory check against the page's answers and this browser's remembered state:
 * the paths still missing, or the result. Only what verified is written back, so a failed check
 * keeps what passed before it. */
async function withDirectory<T>(pin: DirectoryPin, answers: Record<string, unknown>, check: (directory: KeyDirectory) => T): Promise<DirectoryOutcome<T>> {
  const directory = new KeyDirectory(pin, await loadState(pin.origin), answers, Date.now() / 1000);
  try {
    return { proven: check(directory) };
  } catch (error) {
    if (error instanceof NeedAnswers) return { need: error.paths };
    throw error;
  } finally {
    await saveState(pin.origin, directory.state);
  }
}

const RECORD_KINDS: Record<RecordKind, ItemKind> = { note: ItemKind.Note, message: ItemKind.Message, document: ItemKind.Document };

/** The context a patient's item of this kind must belong to (docs/crypto.md 5.2). */
function recordContext(kind: RecordKind, practiceId: string, patientId: string): string {
  return kind === "message" ? conversationId(practiceId, patientId) : patientId;
}

/** An opened body as the page gets it: a note's or message's text, or a document's name and
 * type with its stream key kept here behind a handle. */
function openedRecord(kind: RecordKind, itemId: string, standing: Standing, body: Uint8Array): OpenedRecord {
  if (kind !== "document") return { itemId, standing, text: fromUtf8(body) };
  const info = readDocumentBody(body);
  const secret: Secret = { kind: "document", documentId: itemId, streamKey: info.streamKey, digest: info.digest, stream: null };
  return { itemId, standing, name: info.name, mediaType: info.mediaType, document: newHandle<DocumentHandle>(secret) };
}

/** The author's standing first (no plaintext for an author who may not write this), then the
 * signature against their proven key, then the content. */
function openRecord(
  directory: KeyDirectory,
  members: ReturnType<KeyDirectory["practiceMembers"]>,
  handle: KeysHandle,
  practiceId: string,
  patientId: string,
  kind: "message" | "document",
  record: SealedRecord,
): OpenedRecord {
  const itemKind = RECORD_KINDS[kind];
  try {
    const me = userKeys(handle);
    const standing = authorStanding(itemKind, record.authorId, me.userId, members);
    // The holder's own items: their own signing key, as openMyVisitReason does.
    const author = record.authorId.toLowerCase() === me.userId.toLowerCase() ? keys.signingBinding(me) : directory.signingKeyOf(record.authorId);
    const item: OpenItem = { holder: handle, wrap: record.wrap, envelope: record.envelope, itemId: record.itemId, author };
    return openedRecord(kind, record.itemId, standing, open(item, itemKind, recordContext(kind, practiceId, patientId)));
  } catch (error) {
    if (error instanceof NeedAnswers) throw error;
    return { itemId: record.itemId, refused: failureOf(error).kind };
  }
}

/** Every item's author, read from its clear header, for the page to fetch in one round. */
function authorsOf(envelopes: Uint8Array[], me: string): string[] {
  const authorIds = new Set<string>();
  for (const envelope of envelopes) {
    try {
      authorIds.add(readItemHeader(envelope).authorId);
    } catch {
      // A malformed envelope is refused on its own, when it is opened.
    }
  }
  return [...authorIds].filter((id) => id !== me);
}

/** Opens items sealed for the practice group, each on its own: a refused one says why. */
function withPracticeKeys<T extends { envelope: Uint8Array }, R>(
  directory: KeyDirectory,
  practiceId: string,
  handle: KeysHandle,
  groupWraps: Uint8Array[],
  items: T[],
  openOne: (keys: practice.PracticeKeys, authors: practice.Authors, item: T) => R,
  refuse: (item: T, kind: FailureKind) => R,
): R[] {
  const me = userKeys(handle);
  const members = directory.practiceMembers(practiceId);
  // Every author's keys in one more round for the page, before any group key is opened.
  directory.needUsers(authorsOf(items.map((item) => item.envelope), me.userId.toLowerCase()));
  const groupKeys = practice.PracticeKeys.open(directory, practiceId, me, groupWraps);
  const authors = new practice.Authors(directory, members, me);
  try {
    return items.map((item) => {
      try {
        return openOne(groupKeys, authors, item);
      } catch (error) {
        if (error instanceof NeedAnswers) throw error;
        return refuse(item, failureOf(error).kind);
      }
    });
  } finally {
    groupKeys.wipe();
  }
}

/** Who the practitioners' key is made for: the practitioners the practice's verified chain
 * attests now, among the members the server lists with a key, each key proven. Only a
 * practitioner of that chain makes or rotates it (the statement is theirs to sign). */
function clinicalMembers(
  directory: KeyDirectory,
  practiceId: string,
  me: keys.UserKeys,
  listed: ListedMember[],
): { chain: statements.MembershipChain; memberKeys: transparency.KeyBinding[] } {
  const chain = directory.practiceMembers(practiceId);
  if (chain === null) throw new UnsignedMemberships("this practice does not sign its memberships");
  const attested = chain.members();
  if (attested.get(me.userId.toLowerCase()) !== statements.Role.Practitioner) throw new WrongContext("only a practitioner makes the practitioners' key");
  const ids = listed.filter((m) => m.hasKey && attested.get(m.accountId.toLowerCase()) === statements.Role.Practitioner).map((m) => m.accountId.toLowerCase());
  directory.needUsers(ids);
  return { chain, memberKeys: ids.map((id) => directory.encryptionKeyOf(id)) };
}

/** A patient's notes: each opened with the practitioners' group key when one of its wraps is for
 * that group, else (a note sealed before the group existed) with the practice group key. A
 * practitioner whose device has no wrap of the practitioners' key yet gets ClinicalKeyPending for
 * those notes, the others still open. Each group's keys are opened only if a note needs them. */
function openNotes(
  directory: KeyDirectory,
  practiceId: string,
  patientId: string,
  holderId: string | null,
  handle: KeysHandle,
  groupWraps: Uint8Array[],
  clinicalWraps: Uint8Array[],
  items: PracticeRecordItem[],
): OpenedRecord[] {
  const me = userKeys(handle);
  const clinicalId = groups.clinicalGroupId(practiceId);
  const members = directory.practiceMembers(practiceId);
  directory.needUsers(authorsOf(items.map((item) => item.envelope), me.userId.toLowerCase()));
  const forClinical = (item: PracticeRecordItem) =>
    item.wraps.some((wrap) => {
      try {
        const header = readWrapHeader(wrap);
        return header.recipientKind === transparency.SubjectKind.Group && header.recipientId === clinicalId;
      } catch {
        return false;
      }
    });
  const clinical: practice.PracticeKeys | FailureKind =
    !items.some(forClinical) || clinicalWraps.length === 0
      ? "ClinicalKeyPending"
      : keysOrRefusal(() => practice.PracticeKeys.openClinical(directory, practiceId, me, clinicalWraps));
  try {
    const legacy = items.every(forClinical) ? "WrongContext" : keysOrRefusal(() => practice.PracticeKeys.open(directory, practiceId, me, groupWraps));
    try {
      const authors = new practice.Authors(directory, members, me);
      return items.map((item): OpenedRecord => {
        const keysFor = forClinical(item) ? clinical : legacy;
        if (typeof keysFor === "string") return { itemId: item.itemId, refused: keysFor };
        try {
          const { body, standing } = practice.openGroupItem(keysFor, authors, ItemKind.Note, item, patientId, holderId);
          try {
            return openedRecord("note", item.itemId, standing, body);
          } finally {
            sodium.wipe(body);
          }
        } catch (error) {
          if (error instanceof NeedAnswers) throw error;
          return { itemId: item.itemId, refused: failureOf(error).kind };
        }
      });
    } finally {
      if (typeof legacy !== "string") legacy.wipe();
    }
  } finally {
    if (typeof clinical !== "string") clinical.wipe();
  }
}

/** A group's keys, or why they could not be opened (every note sealed to them is refused with
 * it); a missing answer or a reset to confirm still stops the whole call. */
function keysOrRefusal(open: () => practice.PracticeKeys): practice.PracticeKeys | FailureKind {
  try {
    return open();
  } catch (error) {
    if (error instanceof NeedAnswers || error instanceof KeysChanged) throw error;
    return failureOf(error).kind;
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function publicPart(sealed: { itemId: string; envelope: Uint8Array; wraps: Uint8Array[]; itemKey: Uint8Array }) {
  sodium.wipe(sealed.itemKey);
  return { itemId: sealed.itemId, envelope: sealed.envelope, wraps: sealed.wraps };
}

function open(params: OpenItem, kind: ItemKind, contextId: string): Uint8Array {
  const itemKey = unwrapItemKey(params.wrap, params.itemId, holder(params.holder));
  try {
    return openItem(params.envelope, kind, itemKey, params.itemId, contextId, params.author);
  } finally {
    sodium.wipe(itemKey);
  }
}

function failureOf(error: unknown): { kind: FailureKind; message: string; keyChanges?: PendingKeyChange[] } {
  if (error instanceof KeysChanged) return { kind: error.name, message: error.message, keyChanges: error.changes };
  if (error instanceof CryptoError) return { kind: error.name, message: error.message };
  if (error instanceof UnknownHandle) return { kind: "UnknownHandle", message: error.message };
  // Anything else is a bug or a misuse (a bad length, an unknown operation): say which, without
  // echoing data, which could hold secrets.
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : "";
  return { kind: "InternalError", message: `${name}: ${message}`.slice(0, 200) };
}

async function handle(request: Request): Promise<Response> {
  try {
    await sodium.ready();
    const run = handlers[request.op] as ((params: unknown) => unknown) | undefined;
    if (run === undefined) throw new UnknownOperation(`unknown operation ${String(request.op)}`);
    return { id: request.id, ok: true, result: await run(request.params) };
  } catch (error) {
    return { id: request.id, ok: false, failure: failureOf(error) };
  }
}

self.addEventListener("message", (event: MessageEvent<Request>) => {
  void handle(event.data).then((response) => self.postMessage(response));
});
