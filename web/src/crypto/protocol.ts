// The typed messages between the pages and the crypto worker. Pages import this file (and
// errors.ts for the failure kinds) and client.ts, never the modules that use libsodium.
//
// What crosses: public keys, envelopes, wraps, plaintext the page itself asked to seal or open,
// the authentication key (sent to the server at login) and a new recovery code (shown once).
// What never crosses: the KEK, the user's and groups' private keys, item keys. The page holds
// opaque handles to them; the worker forgets them on `forget` / `forgetAll` (log out).
import type { FailureKind, PendingKeyChange } from "./errors";

export type { PendingKeyChange };

declare const handleBrand: unique symbol;
/** An opaque reference to secrets that stay in the worker. */
export type Handle<Kind extends string> = string & { readonly [handleBrand]: Kind };
export type KekHandle = Handle<"kek">;
export type KeysHandle = Handle<"keys">;
export type GroupHandle = Handle<"group">;
/** A document being encrypted for upload, or one whose description was opened (its stream key). */
export type UploadHandle = Handle<"upload">;
export type DocumentHandle = Handle<"document">;
/** A rotation an admin's browser just made: the older group keys, to re-wrap item keys. */
export type RotationHandle = Handle<"rotation">;

export interface KeyBinding {
  subjectKind: 1 | 2; // user, group
  subjectId: string;
  purpose: 1 | 2; // encryption (X25519), signing (Ed25519)
  epoch: number;
  publicKey: Uint8Array;
}

export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
}

export interface KeyBundle {
  userId: string;
  epoch: number;
  encryptionPublic: Uint8Array;
  signingPublic: Uint8Array;
  sealedByPassword: Uint8Array;
  sealedByRecovery: Uint8Array;
}

export interface UnlockedKeys {
  keys: KeysHandle;
  userId: string;
  epoch: number;
  encryptionBinding: KeyBinding;
  signingBinding: KeyBinding;
}

export interface SealedItem {
  itemId: string;
  envelope: Uint8Array;
  /** One per recipient, in the order given. */
  wraps: Uint8Array[];
}

export interface OpenItem {
  /** Whose wrap this is: the user's keys, or a group key of the wrap's epoch. */
  holder: KeysHandle | GroupHandle;
  wrap: Uint8Array;
  envelope: Uint8Array;
  itemId: string;
  /** The author's signing binding, checked against the key directory by the caller. */
  author: KeyBinding;
}

/** A sealed message or document description as the API lists it, with the wrap for this user. */
export interface SealedRecord {
  itemId: string;
  authorId: string;
  envelope: Uint8Array;
  wrap: Uint8Array;
}

/** Who wrote an item, as the standing check decided (docs/crypto.md 5.2). */
export type Standing = "holder" | "member" | "former member";

/** One record opened, or refused with the reason (an author without standing, a bad signature):
 * a note's or a message's text, or a document's description (its stream key behind a handle). */
export type OpenedRecord =
  | { itemId: string; standing: Standing; text: string }
  | { itemId: string; standing: Standing; name: string; mediaType: string; document: DocumentHandle }
  | { itemId: string; refused: FailureKind };

/** An agenda item's sealed reason; `holderId` is the patient's holder as the server names it. */
export interface AgendaReasonItem {
  appointmentId: string;
  itemId: string;
  envelope: Uint8Array;
  wraps: Uint8Array[];
  holderId: string | null;
}

/** A patient's note, message or document description at the practice, with every wrap the
 * member was given (the worker picks the one for a group key it holds). */
export interface PracticeRecordItem {
  itemId: string;
  envelope: Uint8Array;
  wraps: Uint8Array[];
}

export type RecordKind = "note" | "message" | "document";

export type OpenedAgendaReason =
  | { appointmentId: string; visitTypeId: string; reason: string; authorId: string; standing: Standing }
  | { appointmentId: string; refused: FailureKind };

export interface SelfTestReport {
  /** Checks run per vector file. */
  checks: Record<string, number>;
  failures: string[];
}

/** The deployment's key directory pin, from the page's server-rendered configuration. */
export interface DirectoryPin {
  origin: string;
  logPublicKey: Uint8Array;
  witnesses: Record<string, Uint8Array>;
  threshold: number;
  witnessMaxAgeSeconds?: number;
}

/** Either the API answers the check still needs (paths to GET, same origin), or its result. */
export type DirectoryOutcome<T> = { need: string[] } | { proven: T };

/** Every operation: its parameters and its result. */
export interface Api {
  version: { params: Record<string, never>; result: { libsodium: string } };
  /** The password goes to the worker and nowhere else; the KEK stays there. */
  deriveLoginKeys: { params: { password: string; kdfParams: Uint8Array }; result: { authKey: Uint8Array; kek: KekHandle } };
  /** `recoveryKdfParams`: the server's parameters for the recovery code (sign-up); only their
   * cost is used to seal, with a salt of the worker's own, as colloque.client does. */
  createKeyBundle: {
    params: { userId: string; kek: KekHandle; epoch?: number; recoveryKdfParams?: Uint8Array };
    result: { bundle: KeyBundle; unlocked: UnlockedKeys; recoveryCode: string };
  };
  unlockWithKek: { params: { kek: KekHandle; userId: string; sealedByPassword: Uint8Array }; result: UnlockedKeys };
  unlockWithRecoveryCode: { params: { userId: string; sealedByRecovery: Uint8Array; recoveryCode: string }; result: UnlockedKeys };
  /** Renewing the recovery code: the unlocked keys sealed under a new code (shown once), with
   * a salt of the worker's own and the cost of `recoveryKdfParams` (the server's fresh ones). */
  newRecoveryEnvelope: { params: { keys: KeysHandle; recoveryKdfParams: Uint8Array }; result: { sealedByRecovery: Uint8Array; recoveryCode: string } };
  /** Password change or after a recovery: the unlocked keys sealed under another KEK. */
  sealForKek: { params: { keys: KeysHandle; kek: KekHandle }; result: { sealedByPassword: Uint8Array } };
  sealVisitReason: {
    params: { keys: KeysHandle; itemId: string; appointmentId: string; visitTypeId: string; reason: string; recipients: KeyBinding[] };
    result: SealedItem;
  };
  sealNote: { params: { keys: KeysHandle; itemId: string; patientId: string; text: string; recipients: KeyBinding[] }; result: SealedItem };
  sealMessage: { params: { keys: KeysHandle; itemId: string; conversationId: string; text: string; recipients: KeyBinding[] }; result: SealedItem };
  openVisitReason: { params: OpenItem & { appointmentId: string }; result: { visitTypeId: string; reason: string } };
  openNote: { params: OpenItem & { patientId: string }; result: { text: string } };
  openMessage: { params: OpenItem & { conversationId: string }; result: { text: string } };
  /** A document's description; the stream key stays in the worker (decryption: a later step). */
  openDocumentDescription: { params: OpenItem & { patientId: string }; result: { name: string; mediaType: string; digest: Uint8Array } };
  /** The holder's records of one kind at a practice, each author's standing decided from the
   * practice's verified membership chain before anything is decrypted, each signature checked
   * against the author's proven key. A refused record says why; the others still open. */
  openRecords: {
    params: {
      pin: DirectoryPin;
      keys: KeysHandle;
      practiceId: string;
      patientId: string;
      kind: "message" | "document";
      records: SealedRecord[];
      answers: Record<string, unknown>;
    };
    result: DirectoryOutcome<OpenedRecord[]>;
  };
  /** A new document stream under a fresh stream key (which stays here). */
  startUpload: { params: { documentId: string }; result: { upload: UploadHandle } };
  /** The stream's bytes this piece completes; `last` adds the final chunk. */
  encryptPiece: { params: { upload: UploadHandle; piece: Uint8Array; last: boolean }; result: { ciphertext: Uint8Array } };
  /** The signed description of a finished stream (stream key, digest, name, media type), sealed
   * for `recipients`; the upload handle is forgotten. */
  sealDocument: {
    params: { keys: KeysHandle; upload: UploadHandle; patientId: string; name: string; mediaType: string; recipients: KeyBinding[] };
    result: SealedItem;
  };
  /** Plaintext of the stream pieces as they come (not to be used before finishDownload). */
  decryptPiece: { params: { document: DocumentHandle; piece: Uint8Array }; result: { plaintext: Uint8Array } };
  /** The rest of the plaintext, once the stream ended cleanly and is the one its author signed. */
  finishDownload: { params: { document: DocumentHandle }; result: { plaintext: Uint8Array } };
  openGroupKey: {
    params: { keys: KeysHandle; wrap: Uint8Array; expected: KeyBinding; lastSeenEpoch: number };
    result: { group: GroupHandle; groupId: string; epoch: number };
  };
  conversationId: { params: { practiceId: string; patientId: string }; result: { conversationId: string } };
  verifyCheckpoint: { params: { note: string; origin: string; logPublicKey: Uint8Array }; result: Checkpoint };
  /** The checkpoint, if the log signed it and at least `threshold` of the pinned witnesses
   * (name -> Ed25519 public key) cosigned it at `notBefore` (POSIX seconds) or later. */
  verifyWitnessedCheckpoint: {
    params: { note: string; origin: string; logPublicKey: Uint8Array; witnesses: Record<string, Uint8Array>; threshold: number; notBefore?: number };
    result: Checkpoint;
  };
  /** A user's key epochs from 1, each after the first endorsed (section 5.12); `kind` 2 is a
   * reset, which the page must have a person confirm (fingerprint) before use. */
  verifyKeyChain: {
    params: { userId: string; bindings: KeyBinding[]; endorsements: Uint8Array[] };
    result: { epochs: { epoch: number; kind: 0 | 1 | 2 }[] };
  };
  /** A group's membership chain, each link checked; `signingKeys` are the signers' proven keys. */
  verifyMembershipChain: {
    params: { groupId: string; statements: Uint8Array[]; signingKeys: KeyBinding[] };
    result: { sequence: number; head: Uint8Array; members: { memberId: string; role: 1 | 2 | 3 }[] };
  };
  /** A group epoch's key and wrapped members, attested by an admin at the stated sequence of the
   * (re-verified) membership chain. */
  verifyGroupEpoch: {
    params: {
      statement: Uint8Array;
      groupKey: KeyBinding;
      membershipChain: Uint8Array[];
      members: { memberId: string; encryptionEpoch: number }[];
      signingKeys: KeyBinding[];
    };
    result: null;
  };
  verifyKeyBinding: { params: { binding: KeyBinding; leafIndex: number; proof: Uint8Array[]; checkpoint: Checkpoint }; result: null };
  verifyCheckpointConsistency: { params: { previous: Checkpoint; next: Checkpoint; proof: Uint8Array[] }; result: null };
  /** The practice group's current key as the key directory proves it (5.12, 5.13), checked
   * against this browser's remembered state (IndexedDB), which it then updates. `answers`: API
   * path -> JSON body, as fetched by the page; call again with the paths in `need` added. */
  provePracticeKey: {
    params: { pin: DirectoryPin; practiceId: string; answers: Record<string, unknown> };
    result: DirectoryOutcome<{ binding: KeyBinding; fingerprint: string }>;
  };
  /** A user's current encryption key as the key directory proves it (their endorsed chain, a
   * reset only once confirmed in this browser): the desk seals a phone booking's reason for the
   * account that manages the patient. `answers` as for provePracticeKey. */
  proveUserKey: {
    params: { pin: DirectoryPin; userId: string; answers: Record<string, unknown> };
    result: DirectoryOutcome<{ binding: KeyBinding; fingerprint: string }>;
  };
  /** A person compared `fingerprint` with the one `userId` sees (after a KeysChanged failure):
   * remembered in this browser's state for the pinned log, so that the reset keys may be used. */
  confirmKeys: { params: { origin: string; userId: string; fingerprint: string }; result: null };
  /** The holder opens the visit reason of one of their appointments: the author must be the
   * holder or a member of the practice's verified chain whose role may book (else
   * AuthorNotAllowed, before decrypting); a member's signing key comes from the key directory,
   * fetched by the page as for provePracticeKey (a practice without a key group: null). */
  openMyVisitReason: {
    params: {
      keys: KeysHandle;
      pin: DirectoryPin;
      practiceId: string;
      appointmentId: string;
      itemId: string;
      envelope: Uint8Array;
      /** The wraps the server returned; the worker picks the one for these keys. */
      wraps: Uint8Array[];
      answers: Record<string, unknown>;
    };
    result: DirectoryOutcome<{ visitTypeId: string; reason: string; authorId: string; standing: "holder" | "member" | "former member" }>;
  };
  /** A practice member opens the visit reasons of many agenda items in one call: the group keys
   * opened once (the current one as the key directory proves it; `groupWraps` are the member's
   * wraps of every epoch from GET .../key-group), each item's author checked as
   * openMyVisitReason does (the patient's holder, or a member of the verified chain whose role
   * may book). A refused item says why; the others still open. */
  openAgendaReasons: {
    params: { pin: DirectoryPin; keys: KeysHandle; practiceId: string; groupWraps: Uint8Array[]; items: AgendaReasonItem[]; answers: Record<string, unknown> };
    result: DirectoryOutcome<OpenedAgendaReason[]>;
  };
  /** A practice member opens a patient's notes, messages or documents' descriptions in one call,
   * as openAgendaReasons does: the group keys opened once, each author's standing (the patient's
   * holder `holderId`, or a member of the verified chain whose role may write that kind) and
   * signature checked before anything is decrypted. A refused item says why; the others open.
   * A document's stream key stays here, behind the handle decryptPiece and finishDownload take. */
  openPracticeRecords: {
    params: {
      pin: DirectoryPin;
      keys: KeysHandle;
      practiceId: string;
      patientId: string;
      holderId: string | null;
      kind: RecordKind;
      groupWraps: Uint8Array[];
      /** Notes: the member's wraps of the practitioners' group (GET .../clinical-key-group),
       * empty when it has none yet. A note with a wrap for that group opens with its key (else
       * ClinicalKeyPending), a note sealed before it existed with the practice group's. */
      clinicalWraps?: Uint8Array[];
      items: PracticeRecordItem[];
      answers: Record<string, unknown>;
    };
    result: DirectoryOutcome<OpenedRecord[]>;
  };
  /** An admin creates the practice's key group (epoch 1, 5.4, 5.12): the membership chain's
   * missing links (its genesis when it has none: this admin, then every listed member with a
   * key, at the listed role), the group key, one wrap per attested member with a key (each key
   * proven by the directory) and the group epoch statement. `answers` must hold GET
   * .../key-group/memberships (the chain so far, which the key directory does not serve for a
   * practice without a key). POST the statements to
   * .../key-group/memberships first, then the rest to .../key-group. */
  createKeyGroup: {
    params: { pin: DirectoryPin; keys: KeysHandle; practiceId: string; members: ListedMember[]; answers: Record<string, unknown> };
    result: DirectoryOutcome<{ statements: Uint8Array[]; publicKey: Uint8Array; wraps: MemberWrap[]; statement: Uint8Array }>;
  };
  /** An admin signs the next link of the practice's verified chain: `role` for a member
   * (attesting a newcomer) or "removed". POST it to .../key-group/memberships. */
  signMembership: {
    params: { pin: DirectoryPin; keys: KeysHandle; practiceId: string; memberId: string; role: MemberRole | "removed"; answers: Record<string, unknown> };
    result: DirectoryOutcome<{ statement: Uint8Array }>;
  };
  /** An admin makes the next epoch (after a removal): the current keys opened from
   * `groupWraps` as the directory proves them, a new key wrapped for exactly the members the
   * verified chain attests that have a key, and its statement. `removedId`: refused
   * (WrongContext) while the chain or the listing still holds them. POST to
   * .../key-group/rotations, then re-wrap item keys with `rotation` (rewrapItemKeys). */
  rotateKeyGroup: {
    params: {
      pin: DirectoryPin;
      keys: KeysHandle;
      practiceId: string;
      removedId: string | null;
      groupWraps: Uint8Array[];
      members: ListedMember[];
      answers: Record<string, unknown>;
    };
    result: DirectoryOutcome<{ rotation: RotationHandle; epoch: number; publicKey: Uint8Array; wraps: MemberWrap[]; statement: Uint8Array }>;
  };
  /** One batch of item key wraps from older epochs, sealed again for the rotation's new key
   * (POST them to .../item-key-wraps). Forget the handle when done. */
  rewrapItemKeys: { params: { rotation: RotationHandle; wraps: StaleItemWrap[] }; result: { wraps: Uint8Array[] } };
  /** An admin seals the current group key for attested members with a key and no wrap of it
   * (`pending`). POST to .../key-group/wraps. */
  wrapForPending: {
    params: { pin: DirectoryPin; keys: KeysHandle; practiceId: string; groupWraps: Uint8Array[]; pending: string[]; answers: Record<string, unknown> };
    result: DirectoryOutcome<{ epoch: number; wraps: MemberWrap[] }>;
  };
  /** The practitioners-only group's current key (notes are sealed for it), as the key directory
   * proves it: a practitioner-made epoch, wrapped for practitioners only, not older than one
   * this browser verified. `answers` as for provePracticeKey. */
  proveClinicalKey: {
    params: { pin: DirectoryPin; practiceId: string; answers: Record<string, unknown> };
    result: DirectoryOutcome<{ binding: KeyBinding; fingerprint: string }>;
  };
  /** A practitioner makes the practitioners' group (epoch 1): its key, born here, one wrap per
   * practitioner the verified chain attests with a key among `members` (GET
   * .../clinical-key-group/members), and the group epoch statement this practitioner signs.
   * POST to .../clinical-key-group. */
  createClinicalGroup: {
    params: { pin: DirectoryPin; keys: KeysHandle; practiceId: string; members: ListedMember[]; answers: Record<string, unknown> };
    result: DirectoryOutcome<{ publicKey: Uint8Array; wraps: MemberWrap[]; statement: Uint8Array }>;
  };
  /** A practitioner makes the practitioners' group's next epoch (rotation due: a practitioner
   * left or changed role), for the practitioners the chain attests now; POST to
   * .../clinical-key-group/rotations, then re-wrap the stale clinical item keys with
   * `rotation` (rewrapItemKeys). */
  rotateClinicalGroup: {
    params: { pin: DirectoryPin; keys: KeysHandle; practiceId: string; clinicalWraps: Uint8Array[]; members: ListedMember[]; answers: Record<string, unknown> };
    result: DirectoryOutcome<{ rotation: RotationHandle; epoch: number; publicKey: Uint8Array; wraps: MemberWrap[]; statement: Uint8Array }>;
  };
  /** A practitioner seals the practitioners' current key for attested practitioners without a
   * wrap of it (`pending`; anyone else is left out). POST to .../clinical-key-group/wraps. */
  wrapClinicalForPending: {
    params: { pin: DirectoryPin; keys: KeysHandle; practiceId: string; clinicalWraps: Uint8Array[]; pending: string[]; answers: Record<string, unknown> };
    result: DirectoryOutcome<{ epoch: number; wraps: MemberWrap[] }>;
  };
  fingerprint: { params: { bindings: KeyBinding[] }; result: { fingerprint: string } };
  checkFingerprint: { params: { bindings: KeyBinding[]; shown: string }; result: null };
  forget: { params: { handle: KekHandle | KeysHandle | GroupHandle | UploadHandle | DocumentHandle | RotationHandle }; result: null };
  forgetAll: { params: Record<string, never>; result: null };
  /** Test builds only: runs the shared vector files in the worker. */
  selfTest: { params: { vectors: Record<string, unknown> }; result: SelfTestReport };
  /** Test builds only: bench/web_agenda.py's floor, the bare libsodium calls of opening reasons. */
  rawOpenReasons: {
    params: { groupPublic: Uint8Array; groupSecret: Uint8Array; items: { wrap: Uint8Array; envelope: Uint8Array; signingPublic: Uint8Array }[]; rounds: number };
    result: { milliseconds: number[]; opened: number };
  };
}

export type MemberRole = "admin" | "practitioner" | "secretary";

/** A member as GET .../key-group/members lists them (the server's word: keys are proven apart). */
export interface ListedMember {
  accountId: string;
  role: MemberRole;
  hasKey: boolean;
}

export interface MemberWrap {
  accountId: string;
  wrap: Uint8Array;
}

export interface StaleItemWrap {
  itemId: string;
  epoch: number;
  wrap: Uint8Array;
}

export type Operation = keyof Api;

export type Request = { [Op in Operation]: { id: number; op: Op; params: Api[Op]["params"] } }[Operation];

export interface Failure {
  kind: FailureKind;
  message: string;
  /** KeysChanged only: who reset their keys, the epoch now current and its fingerprint. */
  keyChanges?: PendingKeyChange[];
}

export type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; failure: Failure };
