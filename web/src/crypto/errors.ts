// The one exception family of the browser's crypto, mirroring colloque.crypto.errors: every
// failure to parse, decrypt or verify throws CryptoError or a subclass, none returns a boolean.
// Messages are fixed strings: never key material, plaintext or identifiers. The worker sends
// the class name (a FailureKind) across to the page, which shows a translated message for it.

export class CryptoError extends Error {
  override name: FailureKind = "CryptoError";
}
export class MalformedEnvelope extends CryptoError {
  override name = "MalformedEnvelope" as const;
}
export class DecryptionFailed extends CryptoError {
  override name = "DecryptionFailed" as const;
}
export class SignatureInvalid extends CryptoError {
  override name = "SignatureInvalid" as const;
}
export class WrongContext extends CryptoError {
  override name = "WrongContext" as const;
}
export class StaleEpoch extends CryptoError {
  override name = "StaleEpoch" as const;
}
export class WeakParameters extends CryptoError {
  override name = "WeakParameters" as const;
}
export class InvalidPublicKey extends CryptoError {
  override name = "InvalidPublicKey" as const;
}
export class ProofInvalid extends CryptoError {
  override name = "ProofInvalid" as const;
}
/** Argon2id could not get its memory (a phone with little free memory, a 32-bit browser): the
 * one failure a user can act on (close tabs, try another device), so it has its own kind. */
export class OutOfMemory extends CryptoError {
  override name = "OutOfMemory" as const;
}

/** A user whose keys were reset since a person last confirmed them: their id, the epoch now
 * current and its fingerprint (the format of colloque.crypto.transparency.fingerprint). */
export interface PendingKeyChange {
  userId: string;
  epoch: number;
  fingerprint: string;
}

/** A user's keys were reset (signed by the new key only): a person must compare fingerprints.
 * Carries every change the check met, so that one confirmation covers them all. */
export class KeysChanged extends CryptoError {
  override name = "KeysChanged" as const;
  constructor(readonly changes: PendingKeyChange[]) {
    super("a member's keys were reset; compare fingerprints");
  }
}
/** An item signed by someone who may not write it: neither the patient's holder nor a member of
 * the verified chain whose role may (colloque.crypto.errors.AuthorNotAllowed). */
export class AuthorNotAllowed extends CryptoError {
  override name = "AuthorNotAllowed" as const;
}
/** The practice has no signed membership chain, so its key cannot be trusted for sealing. */
export class UnsignedMemberships extends CryptoError {
  override name = "UnsignedMemberships" as const;
}
/** A note sealed for the practitioners' group, read by a practitioner whose device holds no wrap
 * of that group's key yet: a colleague's device shares it when it next opens a record. */
export class ClinicalKeyPending extends CryptoError {
  override name = "ClinicalKeyPending" as const;
}

export const FAILURE_KINDS = [
  "CryptoError",
  "MalformedEnvelope",
  "DecryptionFailed",
  "SignatureInvalid",
  "WrongContext",
  "StaleEpoch",
  "WeakParameters",
  "InvalidPublicKey",
  "ProofInvalid",
  "OutOfMemory",
  "KeysChanged",
  "UnsignedMemberships",
  "AuthorNotAllowed",
  "ClinicalKeyPending",
  // Not crypto: the worker could not start, was given a handle it does not hold, or a bug.
  "WorkerUnavailable",
  "UnknownHandle",
  "InternalError",
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];
