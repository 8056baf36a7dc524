// The shared known-answer tests (tests/vectors/*.json), run inside the worker with the same
// modules the worker uses. Directions: every stored envelope is opened or parsed, and every
// deterministic one is rebuilt byte for byte (sealed boxes through the ephemeral-seed hook, as
// colloque.crypto's tests do); tampered variants must throw the expected CryptoError subclass.
import { bytesEqual, fromHex, toHex, utf8 } from "../encoding";
import { CryptoError, DecryptionFailed, InvalidPublicKey, MalformedEnvelope, OutOfMemory, ProofInvalid, SignatureInvalid, StaleEpoch, WeakParameters, WrongContext } from "../errors";
import * as documents from "../documents";
import * as groups from "../groups";
import * as items from "../items";
import * as keys from "../keys";
import * as login from "../login";
import type { SelfTestReport } from "../protocol";
import * as sodium from "../sodium";
import * as statements from "../statements";
import * as tlog from "../transparency";
import * as witness from "../witness";

type Json = Record<string, unknown>;
type ErrorClass = new (message: string) => CryptoError;

const MARKER = "colloque-crypto-selftest"; // looked for in the shipped worker chunk: must be absent

class Checks {
  readonly counts: Record<string, number> = {};
  readonly failures: string[] = [];
  private file = "";

  start(file: string): void {
    this.file = file;
    this.counts[file] = 0;
  }

  run(what: string, body: () => void): void {
    this.counts[this.file] = (this.counts[this.file] ?? 0) + 1;
    try {
      body();
    } catch (error) {
      this.failures.push(`${this.file}: ${what}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
  }

  equal(what: string, actual: () => Uint8Array | string | number, expected: Uint8Array | string | number): void {
    this.run(what, () => {
      const got = actual();
      const same = got instanceof Uint8Array && expected instanceof Uint8Array ? bytesEqual(got, expected) : got === expected;
      if (!same) {
        const show = (value: Uint8Array | string | number) => (value instanceof Uint8Array ? toHex(value) : String(value));
        throw new Error(`expected ${show(expected).slice(0, 80)}, got ${show(got).slice(0, 80)}`);
      }
    });
  }

  refuses(what: string, expected: ErrorClass, body: () => unknown): void {
    this.run(`${what} is refused`, () => {
      try {
        body();
      } catch (error) {
        if (error instanceof expected) return;
        throw new Error(`expected ${expected.name}, got ${error instanceof Error ? error.name : String(error)}`);
      }
      throw new Error(`expected ${expected.name}, nothing thrown`);
    });
  }
}

const hex = (value: unknown): Uint8Array => fromHex(String(value));
const str = (value: unknown): string => String(value);
const num = (value: unknown): number => Number(value);
const list = (value: unknown): Json[] => value as Json[];
const obj = (value: unknown): Json => value as Json;

function flip(data: Uint8Array, index: number): Uint8Array {
  const copy = data.slice();
  const at = index < 0 ? copy.length + index : index;
  copy[at] = (copy[at] as number) ^ 0x01;
  return copy;
}

function bindingOf(json: Json): tlog.KeyBinding {
  return {
    subjectKind: num(json.subject_kind) as tlog.SubjectKind,
    subjectId: str(json.subject_id),
    purpose: num(json.purpose) as tlog.KeyPurpose,
    epoch: num(json.epoch),
    publicKey: hex(json.public_key),
  };
}

function userOf(json: Json): keys.UserKeys {
  return keys.keysFromSecrets(str(json.user_id), num(json.epoch), hex(json.x25519_secret), hex(json.ed25519_seed));
}

// Primitives ---------------------------------------------------------------------------------

function argon2idFile(c: Checks, v: Json): void {
  for (const [i, t] of list(v.cases).entries()) {
    c.equal(`case ${i}`, () => sodium.argon2id(hex(t.password), hex(t.salt), num(t.opslimit), num(t.memlimit), num(t.outlen)), hex(t.hash));
  }
}

function kdfFile(c: Checks, v: Json): void {
  for (const t of list(v.cases)) {
    c.equal(`subkey ${str(t.subkey_id)}`, () => sodium.kdfDerive(hex(v.master_key), num(t.subkey_id), str(v.context), num(t.length)), hex(t.subkey));
  }
}

function blake2bFile(c: Checks, v: Json): void {
  c.equal("BLAKE2b-512", () => sodium.blake2b(hex(v.message), num(v.length)), hex(v.digest));
}

function x25519File(c: Checks, v: Json): void {
  c.equal("alice public", () => sodium.x25519PublicFromSecret(hex(v.alice_private)), hex(v.alice_public));
  c.equal("bob public", () => sodium.x25519PublicFromSecret(hex(v.bob_private)), hex(v.bob_public));
  c.equal("shared (alice)", () => sodium.x25519(hex(v.alice_private), hex(v.bob_public)), hex(v.shared_secret));
  c.equal("shared (bob)", () => sodium.x25519(hex(v.bob_private), hex(v.alice_public)), hex(v.shared_secret));
  for (const [i, key] of (v.low_order_public_keys as string[]).entries()) {
    c.refuses(`low-order key ${i} in X25519`, InvalidPublicKey, () => sodium.x25519(hex(v.alice_private), fromHex(key)));
    c.refuses(`low-order key ${i} as a sealed box recipient`, InvalidPublicKey, () => sodium.seal(utf8("x"), fromHex(key)));
  }
}

function ed25519File(c: Checks, v: Json): void {
  for (const [i, t] of list(v.valid).entries()) {
    const pair = () => sodium.ed25519KeypairFromSeed(hex(t.secret_key));
    c.equal(`valid ${i}: public key`, () => pair().publicKey, hex(t.public_key));
    c.equal(`valid ${i}: signature`, () => sodium.ed25519Sign(hex(t.message), pair().secretKey), hex(t.signature));
    c.run(`valid ${i}: verifies`, () => sodium.ed25519Verify(hex(t.signature), hex(t.message), hex(t.public_key)));
    c.refuses(`valid ${i} with a flipped bit`, SignatureInvalid, () => sodium.ed25519Verify(flip(hex(t.signature), 0), hex(t.message), hex(t.public_key)));
  }
  for (const t of list(v.invalid)) {
    c.refuses(str(t.comment), SignatureInvalid, () => sodium.ed25519Verify(hex(t.signature), hex(t.message), hex(t.public_key)));
  }
}

function xchachaFile(c: Checks, v: Json): void {
  const sealed = new Uint8Array([...hex(v.ciphertext), ...hex(v.tag)]);
  c.equal("encrypt", () => sodium.aeadEncrypt(hex(v.plaintext), hex(v.aad), hex(v.nonce), hex(v.key)), sealed);
  c.equal("decrypt", () => sodium.aeadDecrypt(sealed, hex(v.aad), hex(v.nonce), hex(v.key)), hex(v.plaintext));
  c.refuses("a flipped tag bit", DecryptionFailed, () => sodium.aeadDecrypt(flip(sealed, -1), hex(v.aad), hex(v.nonce), hex(v.key)));
  c.refuses("other associated data", DecryptionFailed, () => sodium.aeadDecrypt(sealed, flip(hex(v.aad), 0), hex(v.nonce), hex(v.key)));
}

// Login and keys -----------------------------------------------------------------------------

function loginFile(c: Checks, v: Json): void {
  for (const [i, t] of list(v.cases).entries()) {
    const password = new TextDecoder().decode(hex(t.password_utf8));
    c.equal(`case ${i}: NFC`, () => login.passwordBytes(password), hex(t.password_nfc_utf8));
    c.equal(`case ${i}: parameters`, () => login.kdfParamsToBytes({ salt: hex(t.salt), cost: { opslimit: num(t.opslimit), memlimit: num(t.memlimit) } }), hex(t.kdf_params));
    const derived = login.deriveLoginKeys(password, hex(t.kdf_params));
    c.equal(`case ${i}: authentication key`, () => derived.authKey, hex(t.auth_key));
    c.equal(`case ${i}: KEK`, () => derived.kek, hex(t.kek));
    c.equal(`case ${i}: master key`, () => login.stretch(hex(t.password_nfc_utf8), login.kdfParamsFromBytes(hex(t.kdf_params))), hex(t.master_key));
  }
  const params = hex(list(v.cases)[0]?.kdf_params);
  const weak = params.slice();
  weak.set([0, 0, 0, 1], 3); // one pass
  c.refuses("one Argon2id pass", WeakParameters, () => login.deriveLoginKeys("x", weak));
  const small = params.slice();
  small.set([0, 0x40, 0, 0], 7); // 4 MiB
  c.refuses("4 MiB of memory", WeakParameters, () => login.deriveLoginKeys("x", small));
  const huge = params.slice();
  huge.set([0x80, 0, 0, 0], 7); // 2 GiB: above the ceiling, never attempted
  c.refuses("2 GiB of memory", WeakParameters, () => login.deriveLoginKeys("x", huge));
  const slow = params.slice();
  slow.set([0, 0, 0, 11], 3);
  c.refuses("eleven passes", WeakParameters, () => login.deriveLoginKeys("x", slow));
  // 3 GiB is more than 32-bit WebAssembly can hold: libsodium fails to allocate at once, which
  // is the failure a phone short of memory gets at 64 MiB (reported as OutOfMemory, translated).
  c.refuses("Argon2id beyond the memory WebAssembly can give", OutOfMemory, () => sodium.argon2id(utf8("x"), new Uint8Array(16), 1, 3 * 1024 ** 3));
  c.refuses("another algorithm", MalformedEnvelope, () => login.kdfParamsFromBytes(flip(params, 2)));
  c.refuses("parameters one byte short", MalformedEnvelope, () => login.kdfParamsFromBytes(params.slice(0, -1)));
  for (const [i, t] of list(v.fake_salt).entries()) {
    // Server side, but only a keyed BLAKE2b: checked here so both sides agree on normalisation.
    const email = str(t.email).trim().toLowerCase();
    c.equal(`fake salt ${i}`, () => sodium.blake2b(new Uint8Array([...utf8("colloque/fake-salt/v1"), ...utf8(email)]), 16, hex(t.server_secret)), hex(t.salt));
  }
}

function keyBundleFile(c: Checks, v: Json): void {
  const user = obj(v.user);
  const userId = str(user.user_id);
  const epoch = num(user.epoch);
  const rebuilt = () =>
    keys.createKeyBundleWith(userId, hex(v.kek), epoch, {
      encryptionSecret: hex(user.x25519_secret),
      signingSeed: hex(user.ed25519_seed),
      recoveryCode: hex(v.recovery_code_bytes),
      recoveryParams: login.kdfParamsFromBytes(hex(v.recovery_kdf_params)),
      loginNonce: hex(v.login_nonce),
      recoveryNonce: hex(v.recovery_nonce),
    });
  const built = rebuilt();
  c.equal("sealed by password, rebuilt", () => built.bundle.sealedByPassword, hex(v.sealed_by_password));
  c.equal("sealed by recovery code, rebuilt", () => built.bundle.sealedByRecovery, hex(v.sealed_by_recovery));
  c.equal("recovery code text", () => keys.recoveryCodeText(hex(v.recovery_code_bytes)), str(v.recovery_code_text));
  c.equal("recovery code parsed", () => keys.parseRecoveryCode(str(v.recovery_code_text)), hex(v.recovery_code_bytes));
  c.equal("recovery code parsed, lower case and spaces", () => keys.parseRecoveryCode(` ${str(v.recovery_code_text).toLowerCase().replaceAll("-", " ")} `), hex(v.recovery_code_bytes));
  c.refuses("a recovery code with a 1", MalformedEnvelope, () => keys.parseRecoveryCode(`1${str(v.recovery_code_text).slice(1)}`));
  c.refuses("a recovery code one character short", MalformedEnvelope, () => keys.parseRecoveryCode(str(v.recovery_code_text).slice(1)));
  const unlocked = keys.unlockWithKek(hex(v.sealed_by_password), userId, hex(v.kek));
  c.equal("unlock with KEK: X25519 secret", () => unlocked.encryptionSecret, hex(user.x25519_secret));
  c.equal("unlock with KEK: Ed25519 seed", () => unlocked.signingSeed, hex(user.ed25519_seed));
  c.equal("unlock with KEK: epoch", () => unlocked.epoch, epoch);
  c.equal("unlock with the recovery code", () => keys.unlockWithRecoveryCode(hex(v.sealed_by_recovery), userId, str(v.recovery_code_text)).signingSeed, hex(user.ed25519_seed));
  c.refuses("another KEK", DecryptionFailed, () => keys.unlockWithKek(hex(v.sealed_by_password), userId, flip(hex(v.kek), 0)));
  c.refuses("a flipped header bit", DecryptionFailed, () => keys.unlockWithKek(flip(hex(v.sealed_by_password), 30), userId, hex(v.kek)));
  c.refuses("a flipped ciphertext bit", DecryptionFailed, () => keys.unlockWithKek(flip(hex(v.sealed_by_password), -1), userId, hex(v.kek)));
  c.refuses("another user", WrongContext, () => keys.unlockWithKek(hex(v.sealed_by_password), "a0000000-0000-4000-8000-00000000ffff", hex(v.kek)));
  c.refuses("the recovery copy opened as the KEK copy", MalformedEnvelope, () => keys.unlockWithKek(hex(v.sealed_by_recovery), userId, hex(v.kek)));
  c.refuses("another recovery code", DecryptionFailed, () =>
    keys.unlockWithRecoveryCode(hex(v.sealed_by_recovery), userId, flip(hex(v.recovery_code_bytes), 0)),
  );
  // A recovery envelope whose parameters a server weakened: refused before any Argon2id.
  const weakened = hex(v.sealed_by_recovery);
  weakened.set([0, 0, 0, 1], 86 + 3);
  c.refuses("weakened recovery parameters", WeakParameters, () => keys.unlockWithRecoveryCode(weakened, userId, str(v.recovery_code_text)));
}

// Items, groups, headers ---------------------------------------------------------------------

function holderFor(recipient: tlog.KeyBinding, users: keys.UserKeys[], group: groups.GroupKey | null): items.KeyPairHolder {
  if (recipient.subjectKind === tlog.SubjectKind.Group && group !== null) return groups.groupHolder(group);
  const user = users.find((u) => u.userId === recipient.subjectId);
  if (user === undefined) throw new Error("no such user in the vectors");
  return { encryptionSecret: user.encryptionSecret, binding: keys.encryptionBinding(user) };
}

function bodyOf(kind: number, expected: Json): Uint8Array {
  return kind === items.ItemKind.VisitReason ? items.visitReasonBody(str(expected.visit_type_id), str(expected.reason)) : utf8(str(expected.text));
}

function itemsFile(c: Checks, v: Json): void {
  const users = list(v.users).map(userOf);
  const g = obj(v.group);
  const group: groups.GroupKey = { groupId: str(g.group_id), epoch: num(g.epoch), publicKey: hex(g.x25519_public), secret: hex(g.x25519_secret) };
  c.equal("group public key", () => sodium.x25519PublicFromSecret(group.secret), group.publicKey);
  for (const t of list(v.cases)) {
    const kind = num(t.kind) as items.ItemKind;
    const itemId = str(t.item_id);
    const contextId = str(t.context_id);
    const author = users.find((u) => u.userId === str(t.author_id)) as keys.UserKeys;
    const recipients = list(t.wraps).map((w) => bindingOf(obj(w.recipient)));
    const envelope = hex(t.envelope);
    const label = `item ${itemId.slice(-1)} (kind ${kind})`;
    const sealed = () =>
      items.sealItemWith(kind, itemId, contextId, bodyOf(kind, obj(t.expected)), author, recipients, {
        itemKey: hex(t.item_key),
        nonce: hex(t.nonce),
        ephemeralSeeds: list(t.wraps).map((w) => hex(w.ephemeral_seed)),
      });
    c.equal(`${label}: envelope rebuilt`, () => sealed().envelope, envelope);
    c.equal(`${label}: commitment`, () => envelope.slice(51, 83), hex(t.commitment));
    for (const [i, w] of list(t.wraps).entries()) {
      c.equal(`${label}: wrap ${i} rebuilt`, () => sealed().wraps[i] as Uint8Array, hex(w.wrap));
      c.equal(`${label}: wrap ${i} opened`, () => items.unwrapItemKey(hex(w.wrap), itemId, holderFor(recipients[i] as tlog.KeyBinding, users, group)), hex(t.item_key));
    }
    const authorBinding = keys.signingBinding(author);
    const open = (env: Uint8Array, k = kind, id = itemId, ctx = contextId, key = hex(t.item_key), by = authorBinding) => items.openItem(env, k, key, id, ctx, by);
    c.equal(`${label}: opened`, () => open(envelope), bodyOf(kind, obj(t.expected)));
    if (kind === items.ItemKind.VisitReason) {
      c.equal(`${label}: reason`, () => items.readVisitReason(open(envelope)).reason, str(obj(t.expected).reason));
    }
    c.run(`${label}: signature (no key)`, () => items.verifyItemSignature(envelope, authorBinding));
    c.refuses(`${label}: a flipped ciphertext bit`, SignatureInvalid, () => open(flip(envelope, 120)));
    c.refuses(`${label}: a flipped signature bit`, SignatureInvalid, () => open(flip(envelope, -1)));
    c.refuses(`${label}: another kind expected`, WrongContext, () => open(envelope, kind === 1 ? 2 : 1));
    c.refuses(`${label}: another item expected`, WrongContext, () => open(envelope, kind, "d0000000-0000-4000-8000-00000000ffff"));
    c.refuses(`${label}: another context expected`, WrongContext, () => open(envelope, kind, itemId, "c0000000-0000-4000-8000-00000000ffff"));
    const other = users.find((u) => u.userId !== author.userId) as keys.UserKeys;
    c.refuses(`${label}: another author expected`, WrongContext, () => open(envelope, kind, itemId, contextId, hex(t.item_key), keys.signingBinding(other)));
    c.refuses(`${label}: the author's id with another key`, SignatureInvalid, () =>
      open(envelope, kind, itemId, contextId, hex(t.item_key), { ...authorBinding, publicKey: other.signingPublic }),
    );
    c.refuses(`${label}: another item key`, DecryptionFailed, () => open(envelope, kind, itemId, contextId, flip(hex(t.item_key), 0)));
    c.refuses(`${label}: truncated`, MalformedEnvelope, () => open(envelope.slice(0, 200)));
    const firstWrap = hex(list(t.wraps)[0]?.wrap);
    const firstHolder = holderFor(recipients[0] as tlog.KeyBinding, users, group);
    c.refuses(`${label}: wrap for another item`, WrongContext, () => items.unwrapItemKey(firstWrap, "d0000000-0000-4000-8000-00000000ffff", firstHolder));
    c.refuses(`${label}: wrap for another epoch`, WrongContext, () =>
      items.unwrapItemKey(firstWrap, itemId, { ...firstHolder, binding: { ...firstHolder.binding, epoch: 2 } }),
    );
    c.refuses(`${label}: wrap with a flipped sealed bit`, DecryptionFailed, () => items.unwrapItemKey(flip(firstWrap, -1), itemId, firstHolder));
  }
}

function conversationsFile(c: Checks, v: Json): void {
  for (const t of list(v.cases)) {
    c.equal(`${str(t.practice_id)} / ${str(t.patient_id)}`, () => items.conversationId(str(t.practice_id), str(t.patient_id)), str(t.conversation_id));
  }
}

function groupsFile(c: Checks, v: Json): void {
  const members = list(v.members).map(userOf);
  const epochs = list(v.epochs);
  for (const e of epochs) {
    const key: groups.GroupKey = { groupId: str(e.group_id), epoch: num(e.epoch), publicKey: hex(e.x25519_public), secret: hex(e.x25519_secret) };
    const expected = groups.groupBinding(key);
    for (const w of list(e.wraps)) {
      const member = members.find((m) => m.userId === str(w.member_id)) as keys.UserKeys;
      const label = `epoch ${key.epoch}, member ${member.userId.slice(-1)}`;
      c.equal(`${label}: rebuilt`, () => groups.wrapGroupKeyWith(key, keys.encryptionBinding(member), hex(w.ephemeral_seed)), hex(w.wrap));
      c.equal(`${label}: opened`, () => groups.openGroupKey(hex(w.wrap), expected, member, key.epoch).secret, key.secret);
      c.equal(`${label}: opened after an older epoch`, () => groups.openGroupKey(hex(w.wrap), expected, member, 0).epoch, key.epoch);
      c.refuses(`${label}: replayed after a newer epoch`, StaleEpoch, () => groups.openGroupKey(hex(w.wrap), expected, member, key.epoch + 1));
      c.refuses(`${label}: another member`, WrongContext, () =>
        groups.openGroupKey(hex(w.wrap), expected, members.find((m) => m !== member) as keys.UserKeys, 0),
      );
      c.refuses(`${label}: not the key the directory vouches for`, WrongContext, () =>
        groups.openGroupKey(hex(w.wrap), { ...expected, publicKey: flip(expected.publicKey, 0) }, member, 0),
      );
      c.refuses(`${label}: another group`, WrongContext, () => groups.openGroupKey(hex(w.wrap), { ...expected, subjectId: "b0000000-0000-4000-8000-00000000ffff" }, member, 0));
      c.refuses(`${label}: a flipped sealed bit`, DecryptionFailed, () => groups.openGroupKey(flip(hex(w.wrap), -1), expected, member, 0));
      c.refuses(`${label}: a flipped header bit`, WrongContext, () => groups.openGroupKey(flip(hex(w.wrap), 60), expected, member, 0));
    }
  }
}

function clearHeadersFile(c: Checks, v: Json): void {
  for (const [i, t] of list(v.item_key_wraps).entries()) {
    const header = () => items.readWrapHeader(hex(t.wrap));
    c.equal(`item key wrap ${i}: item`, () => header().itemId, str(t.item_id));
    c.equal(`item key wrap ${i}: recipient kind`, () => header().recipientKind, num(t.recipient_kind));
    c.equal(`item key wrap ${i}: recipient`, () => header().recipientId, str(t.recipient_id));
    c.equal(`item key wrap ${i}: epoch`, () => header().epoch, num(t.epoch));
  }
  for (const t of list(v.item_key_wrap_refused)) c.refuses(`item key wrap: ${str(t.why)}`, MalformedEnvelope, () => items.readWrapHeader(hex(t.hex)));
  for (const [i, t] of list(v.group_key_wraps).entries()) {
    const header = () => groups.readGroupWrapHeader(hex(t.wrap));
    c.equal(`group key wrap ${i}: group`, () => header().groupId, str(t.group_id));
    c.equal(`group key wrap ${i}: epoch`, () => header().epoch, num(t.epoch));
    c.equal(`group key wrap ${i}: public key`, () => header().publicKey, hex(t.public_key));
    c.equal(`group key wrap ${i}: member`, () => header().memberId, str(t.member_id));
  }
  for (const t of list(v.group_key_wrap_refused)) c.refuses(`group key wrap: ${str(t.why)}`, MalformedEnvelope, () => groups.readGroupWrapHeader(hex(t.hex)));
  for (const [i, t] of list(v.sealed_keys).entries()) {
    const header = () => keys.readSealedKeysHeader(hex(t.sealed), str(t.user_id), t.by_recovery === true);
    c.equal(`sealed keys ${i}: epoch`, () => header().epoch, num(t.epoch));
    c.equal(`sealed keys ${i}: X25519`, () => header().encryptionPublic, hex(t.x25519_public));
    c.equal(`sealed keys ${i}: Ed25519`, () => header().signingPublic, hex(t.ed25519_public));
    c.refuses(`sealed keys ${i}: for another user`, WrongContext, () => keys.readSealedKeysHeader(hex(t.sealed), str(v.sealed_keys_other_user), t.by_recovery === true));
  }
  const first = list(v.sealed_keys)[0] as Json;
  for (const t of list(v.sealed_keys_refused)) {
    c.refuses(`sealed keys: ${str(t.why)}`, MalformedEnvelope, () => keys.readSealedKeysHeader(hex(t.hex), str(first.user_id), first.by_recovery === true));
  }
}

// Documents: the secretstream of a document's bytes (type 0x06) -----------------------------------

/** 'pattern:N': N bytes, byte i being i mod 251 (documents.json); otherwise UTF-8 text. */
function documentPlaintext(value: unknown): Uint8Array {
  const text = str(value);
  if (!text.startsWith("pattern:")) return utf8(text);
  return Uint8Array.from({ length: Number(text.slice("pattern:".length)) }, (_, i) => i % 251);
}

/** The plaintext of `stream` fed in pieces of `size` bytes, and the digest of what was fed. */
function decryptInPieces(stream: Uint8Array, documentId: string, key: Uint8Array, size: number): { plaintext: Uint8Array; digest: Uint8Array } {
  const decryptor = new documents.DocumentDecryptor(documentId, key);
  const out: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += size) out.push(decryptor.push(stream.subarray(at, at + size)));
  out.push(decryptor.finish());
  return { plaintext: concatAll(out), digest: decryptor.digest() };
}

function encryptInPieces(plaintext: Uint8Array, documentId: string, key: Uint8Array, size: number): { stream: Uint8Array; digest: Uint8Array } {
  const encryptor = new documents.DocumentEncryptor(documentId, key);
  const out: Uint8Array[] = [];
  for (let at = 0; at < plaintext.length; at += size) out.push(encryptor.push(plaintext.subarray(at, at + size)));
  out.push(encryptor.finish());
  return { stream: concatAll(out), digest: encryptor.digest() };
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function documentsFile(c: Checks, v: Json): void {
  const documentId = str(v.document_id);
  const key = hex(v.key);
  const full = documents.CIPHERTEXT_CHUNK_BYTES;
  for (const [i, t] of list(v.cases).entries()) {
    const stream = hex(t.ciphertext);
    const plaintext = documentPlaintext(t.plaintext);
    for (const size of [stream.length, full, 1000, 46]) {
      c.equal(`case ${i}: decrypted in pieces of ${size}`, () => decryptInPieces(stream, documentId, key, size).plaintext, plaintext);
    }
    c.equal(`case ${i}: digest of the stream`, () => decryptInPieces(stream, documentId, key, 4096).digest, sodium.blake2b(stream, 32));
    // libsodium draws the secretstream header, so encryption is checked by its sizes and a round trip.
    c.equal(`case ${i}: encrypted size`, () => encryptInPieces(plaintext, documentId, key, 5000).stream.length, stream.length);
    c.equal(
      `case ${i}: encrypted in pieces, then decrypted`,
      () => decryptInPieces(encryptInPieces(plaintext, documentId, key, 7000).stream, documentId, key, 9000).plaintext,
      plaintext,
    );
    c.equal(`case ${i}: the encryptor's digest`, () => {
      const made = encryptInPieces(plaintext, documentId, key, 3000);
      return bytesEqual(made.digest, sodium.blake2b(made.stream, 32)) ? 1 : 0;
    }, 1);
    c.refuses(`case ${i}: a flipped bit in the last chunk`, DecryptionFailed, () => decryptInPieces(flip(stream, -1), documentId, key, full));
    c.refuses(`case ${i}: a flipped bit in the header`, DecryptionFailed, () => decryptInPieces(flip(stream, 30), documentId, key, full));
    c.refuses(`case ${i}: one byte short`, DecryptionFailed, () => decryptInPieces(stream.slice(0, -1), documentId, key, full));
    c.refuses(`case ${i}: another document`, WrongContext, () => decryptInPieces(stream, "d0000000-0000-4000-8000-000000000011", key, full));
    c.refuses(`case ${i}: another key`, DecryptionFailed, () => decryptInPieces(stream, documentId, flip(key, 0), full));
    c.refuses(`case ${i}: data after the end`, CryptoError, () => decryptInPieces(concatAll([stream, stream.slice(46, 46 + full)]), documentId, key, stream.length + full));
    c.refuses(`case ${i}: only the header`, DecryptionFailed, () => decryptInPieces(stream.slice(0, 46), documentId, key, full));
    c.refuses(`case ${i}: less than a header`, MalformedEnvelope, () => decryptInPieces(stream.slice(0, 45), documentId, key, full));
    if (stream.length > 46 + full) {
      c.refuses(`case ${i}: the final chunk dropped`, DecryptionFailed, () => decryptInPieces(stream.slice(0, 46 + full), documentId, key, full));
      const first = stream.slice(46, 46 + full);
      const second = stream.slice(46 + full, 46 + 2 * full);
      if (second.length === full) {
        const swapped = concatAll([stream.slice(0, 46), second, first, stream.slice(46 + 2 * full)]);
        c.refuses(`case ${i}: two chunks swapped`, DecryptionFailed, () => decryptInPieces(swapped, documentId, key, full));
      }
    }
  }
  const unsupported = hex(list(v.cases)[0]?.ciphertext).slice();
  unsupported[21] = 0x01; // a chunk size of 65,537
  c.refuses("another chunk size", MalformedEnvelope, () => decryptInPieces(unsupported, documentId, key, 4096));
  c.refuses("a digest that differs", DecryptionFailed, () => documents.checkDigest(new Uint8Array(32), new Uint8Array(32).fill(1)));
}

function sealedDocumentsFile(c: Checks, v: Json): void {
  const author = userOf(obj(v.author));
  const documentId = str(v.document_id);
  const patientId = str(v.patient_id);
  const info: items.DocumentInfo = { name: str(v.name), mediaType: str(v.media_type), digest: hex(v.stream_digest), streamKey: hex(v.stream_key) };
  c.equal("stream digest", () => sodium.blake2b(hex(v.stream), 32), hex(v.stream_digest));
  c.equal("the described stream, decrypted", () => decryptInPieces(hex(v.stream), documentId, hex(v.stream_key), 100).plaintext, utf8(str(v.stream_plaintext)));
  c.run("the described stream's digest matches its description", () =>
    documents.checkDigest(decryptInPieces(hex(v.stream), documentId, hex(v.stream_key), 100).digest, hex(v.stream_digest)),
  );
  c.equal("body", () => items.documentBody(info), hex(v.body));
  const recipients = list(v.wraps).map((w) => bindingOf(obj(w.recipient)));
  const sealed = () =>
    items.sealItemWith(items.ItemKind.Document, documentId, patientId, items.documentBody(info), author, recipients, {
      itemKey: hex(v.item_key),
      nonce: hex(v.nonce),
      ephemeralSeeds: list(v.wraps).map((w) => hex(w.ephemeral_seed)),
    });
  c.equal("envelope rebuilt", () => sealed().envelope, hex(v.envelope));
  for (const [i, w] of list(v.wraps).entries()) c.equal(`wrap ${i} rebuilt`, () => sealed().wraps[i] as Uint8Array, hex(w.wrap));
  const body = () => items.openItem(hex(v.envelope), items.ItemKind.Document, hex(v.item_key), documentId, patientId, keys.signingBinding(author));
  c.equal("opened: name", () => items.readDocumentBody(body()).name, info.name);
  c.equal("opened: media type", () => items.readDocumentBody(body()).mediaType, info.mediaType);
  c.equal("opened: digest", () => items.readDocumentBody(body()).digest, info.digest);
  c.equal("opened: stream key", () => items.readDocumentBody(body()).streamKey, info.streamKey);
  c.refuses("opened as a note", WrongContext, () => items.openItem(hex(v.envelope), items.ItemKind.Note, hex(v.item_key), documentId, patientId, keys.signingBinding(author)));
  c.refuses("a body whose name overruns it", MalformedEnvelope, () => items.readDocumentBody(hex(v.body).slice(0, 70)));
}

// The key directory --------------------------------------------------------------------------

function merkleFile(c: Checks, v: Json): void {
  const hashes = (v.leaves as string[]).map((leaf) => tlog.leafHash(fromHex(leaf)));
  c.equal("empty root", () => tlog.emptyRoot(), hex(v.empty_root));
  for (const [i, root] of (v.roots as string[]).entries()) c.equal(`root of ${i + 1}`, () => tlog.treeRoot(hashes.slice(0, i + 1)), fromHex(root));
  const rootOf = (size: number) => fromHex((v.roots as string[])[size - 1] as string);
  for (const t of list(v.inclusion_proofs)) {
    const args = { leafHash: hashes[num(t.index)] as Uint8Array, index: num(t.index), treeSize: num(t.tree_size), proof: (t.proof as string[]).map(fromHex), root: rootOf(num(t.tree_size)) };
    const label = `inclusion of ${args.index} in ${args.treeSize}`;
    c.run(label, () => tlog.verifyInclusion(args));
    c.refuses(`${label}, another index`, ProofInvalid, () => tlog.verifyInclusion({ ...args, index: args.index + 1 }));
    c.refuses(`${label}, another root`, ProofInvalid, () => tlog.verifyInclusion({ ...args, root: flip(args.root, 0) }));
    c.refuses(`${label}, an extra hash`, ProofInvalid, () => tlog.verifyInclusion({ ...args, proof: [...args.proof, args.root] }));
    if (args.proof.length > 0) c.refuses(`${label}, a flipped hash`, ProofInvalid, () => tlog.verifyInclusion({ ...args, proof: [flip(args.proof[0] as Uint8Array, 0), ...args.proof.slice(1)] }));
  }
  for (const t of list(v.consistency_proofs)) {
    const args = { oldSize: num(t.old_size), newSize: num(t.new_size), oldRoot: rootOf(num(t.old_size)), newRoot: rootOf(num(t.new_size)), proof: (t.proof as string[]).map(fromHex) };
    const label = `consistency ${args.oldSize} -> ${args.newSize}`;
    c.run(label, () => tlog.verifyConsistency(args));
    c.refuses(`${label}, another new root`, ProofInvalid, () => tlog.verifyConsistency({ ...args, newRoot: flip(args.newRoot, 0) }));
    c.refuses(`${label}, another old root`, ProofInvalid, () => tlog.verifyConsistency({ ...args, oldRoot: flip(args.oldRoot, 0) }));
    if (args.proof.length > 0) c.refuses(`${label}, a hash dropped`, ProofInvalid, () => tlog.verifyConsistency({ ...args, proof: args.proof.slice(1) }));
  }
  c.refuses("a log that shrinks", ProofInvalid, () => tlog.verifyConsistency({ oldSize: 2, newSize: 1, oldRoot: rootOf(2), newRoot: rootOf(1), proof: [] }));
}

function parseNoteKey(text: string, privateKey: boolean): { name: string; id: Uint8Array; key: Uint8Array } {
  // name+id+base64: the base64 may itself hold "+", so split off the first two fields only.
  const rest = privateKey ? text.replace(/^PRIVATE\+KEY\+/, "") : text;
  const [name, id] = rest.split("+");
  const key = rest.slice(`${name}+${id}+`.length);
  const raw = Uint8Array.from(atob(key as string), (ch) => ch.charCodeAt(0));
  if (raw[0] !== 0x01) throw new MalformedEnvelope("not an Ed25519 note key");
  return { name: name as string, id: fromHex(id as string), key: raw.slice(1) };
}

function signedNoteFile(c: Checks, v: Json): void {
  const verifier = parseNoteKey(str(v.verifier_key_string), false);
  const signer = parseNoteKey(str(v.private_key_string), true);
  c.equal("key id", () => tlog.noteKeyId(str(v.key_name), verifier.key), hex(v.key_id));
  c.equal("verifier key from the private key", () => sodium.ed25519KeypairFromSeed(signer.key).publicKey, verifier.key);
  const note = tlog.parseNote(str(v.signed_note));
  c.equal("signed text", () => note.text, str(v.text));
  const signature = () => Uint8Array.from(atob(note.signatures[0]?.signature ?? ""), (ch) => ch.charCodeAt(0));
  c.equal("signature line key id", () => signature().slice(0, 4), verifier.id);
  c.run("signature verifies", () => sodium.ed25519Verify(signature().slice(4), utf8(note.text), verifier.key));
  c.equal("signature rebuilt", () => sodium.ed25519Sign(utf8(str(v.text)), sodium.ed25519KeypairFromSeed(signer.key).secretKey), signature().slice(4));
  c.refuses("another text", SignatureInvalid, () => sodium.ed25519Verify(signature().slice(4), utf8(`${note.text}x`), verifier.key));
}

function transparencyFile(c: Checks, v: Json): void {
  const origin = str(v.log_origin);
  const logKey = hex(v.log_ed25519_public);
  c.equal("log public key", () => sodium.ed25519KeypairFromSeed(hex(v.log_ed25519_seed)).publicKey, logKey);
  const leaves = list(v.leaves);
  const bindings = leaves.map(bindingOf);
  const hashes = leaves.map((l) => hex(l.leaf_hash));
  for (const [i, l] of leaves.entries()) {
    c.equal(`leaf ${i}`, () => tlog.bindingToLeaf(bindings[i] as tlog.KeyBinding), hex(l.leaf));
    c.equal(`leaf ${i} hash`, () => tlog.leafHash(hex(l.leaf)), hex(l.leaf_hash));
    c.equal(`leaf ${i} parsed`, () => tlog.bindingToLeaf(tlog.bindingFromLeaf(hex(l.leaf))), hex(l.leaf));
  }
  c.refuses("a leaf with an unknown purpose", MalformedEnvelope, () => tlog.bindingFromLeaf(flip(hex(leaves[0]?.leaf), 19)));
  const roots = obj(v.roots);
  for (const [size, root] of Object.entries(roots)) c.equal(`root of ${size}`, () => tlog.treeRoot(hashes.slice(0, Number(size))), hex(root));
  const notes = v.checkpoints as string[];
  const checkpoints = notes.map((note) => tlog.verifyCheckpoint(note, origin, logKey));
  for (const [i, note] of notes.entries()) {
    const checkpoint = checkpoints[i] as tlog.Checkpoint;
    c.equal(`checkpoint ${i}: root`, () => checkpoint.rootHash, hex(roots[String(checkpoint.treeSize)]));
    c.equal(`checkpoint ${i}: rebuilt`, () => {
      const signature = sodium.ed25519Sign(utf8(tlog.checkpointText(checkpoint)), sodium.ed25519KeypairFromSeed(hex(v.log_ed25519_seed)).secretKey);
      return `${tlog.checkpointText(checkpoint)}\n\u2014 ${origin} ${btoa(String.fromCharCode(...tlog.noteKeyId(origin, logKey), ...signature))}\n`;
    }, note);
    c.refuses(`checkpoint ${i}: another origin`, ProofInvalid, () => tlog.verifyCheckpoint(note, "other.example/log", logKey));
    c.refuses(`checkpoint ${i}: another key`, ProofInvalid, () => tlog.verifyCheckpoint(note, origin, hex(leaves[1]?.public_key)));
    c.refuses(`checkpoint ${i}: another size`, ProofInvalid, () => tlog.verifyCheckpoint(note.replace(`\n${checkpoint.treeSize}\n`, `\n${checkpoint.treeSize + 1}\n`), origin, logKey));
    c.refuses(`checkpoint ${i}: an extension line`, ProofInvalid, () => tlog.verifyCheckpoint(note.replace("\n\n", "\nextension\n\n"), origin, logKey));
    c.equal(`checkpoint ${i}: a witness line is ignored`, () => tlog.verifyCheckpoint(`${note}\u2014 witness.example AAAAAAAA\n`, origin, logKey).treeSize, checkpoint.treeSize);
    c.refuses(`checkpoint ${i}: no signature`, ProofInvalid, () => tlog.verifyCheckpoint(note.slice(0, note.indexOf("\n\n") + 2), origin, logKey));
  }
  const last = checkpoints[checkpoints.length - 1] as tlog.Checkpoint;
  for (const [i, proof] of list(v.inclusion_proofs_size_5).entries()) {
    const path = (proof as unknown as string[]).map(fromHex);
    c.run(`binding ${i} in the checkpoint`, () => tlog.verifyKeyBinding(bindings[i] as tlog.KeyBinding, i, path, last));
    c.refuses(`binding ${i} with another key`, ProofInvalid, () => tlog.verifyKeyBinding({ ...(bindings[i] as tlog.KeyBinding), publicKey: flip((bindings[i] as tlog.KeyBinding).publicKey, 0) }, i, path, last));
    c.refuses(`binding ${i} at another epoch`, ProofInvalid, () => tlog.verifyKeyBinding({ ...(bindings[i] as tlog.KeyBinding), epoch: 2 }, i, path, last));
  }
  const consistency = (v.consistency_proof_3_5 as string[]).map(fromHex);
  const first = checkpoints[0] as tlog.Checkpoint;
  c.run("checkpoint 3 -> 5 consistent", () => tlog.verifyCheckpointConsistency(first, last, consistency));
  c.refuses("checkpoint 5 -> 3", ProofInvalid, () => tlog.verifyCheckpointConsistency(last, first, consistency));
  c.refuses("checkpoint 3 -> 5 with a flipped hash", ProofInvalid, () => tlog.verifyCheckpointConsistency(first, last, [flip(consistency[0] as Uint8Array, 0), ...consistency.slice(1)]));
  for (const [i, t] of list(v.fingerprints).entries()) {
    const fp = (t.leaves as string[]).map((leaf) => tlog.bindingFromLeaf(fromHex(leaf)));
    c.equal(`fingerprint ${i}`, () => tlog.fingerprint(fp), str(t.fingerprint));
    c.equal(`fingerprint ${i}, keys in another order`, () => tlog.fingerprint([...fp].reverse()), str(t.fingerprint));
    c.run(`fingerprint ${i} as read out`, () => tlog.checkFingerprint(fp, str(t.fingerprint).replaceAll(" ", "  ")));
    c.refuses(`fingerprint ${i} with one digit wrong`, InvalidPublicKey, () => tlog.checkFingerprint(fp, `${str(t.fingerprint).slice(0, -1)}${str(t.fingerprint).endsWith("0") ? "1" : "0"}`));
  }
}

function logRecipesFile(c: Checks, v: Json): void {
  const hashes = (v.leaves as string[]).map((leaf) => tlog.leafHash(fromHex(leaf)));
  c.equal("empty root", () => tlog.emptyRoot(), hex(v.empty_root));
  for (const step of list(v.steps)) c.equal(`root of ${num(step.size)}`, () => tlog.treeRoot(hashes.slice(0, num(step.size))), hex(step.root));
  const batch = obj(v.inclusion_proofs);
  const size = num(batch.tree_size);
  const root = tlog.treeRoot(hashes.slice(0, size));
  for (const [i, index] of (batch.indexes as number[]).entries()) {
    const proof = ((batch.proofs as string[][])[i] as string[]).map(fromHex);
    c.run(`inclusion of ${index} in ${size}`, () => tlog.verifyInclusion({ leafHash: hashes[index] as Uint8Array, index, treeSize: size, proof, root }));
  }
  c.equal("log public key", () => sodium.ed25519KeypairFromSeed(hex(v.log_ed25519_seed)).publicKey, hex(v.log_public_key));
  c.equal("log key id", () => tlog.noteKeyId(str(v.log_origin), hex(v.log_public_key)), hex(v.log_key_id));
}

function keyResetFile(c: Checks, v: Json): void {
  keyBundleFile(c, v);
  c.refuses("epoch 2 keys opening an epoch 1 wrap", WrongContext, () => {
    const user = userOf(obj(v.user));
    const wrap = items.wrapItemKeyFor(new Uint8Array(32), "d0000000-0000-4000-8000-000000000001", { ...keys.encryptionBinding(user), epoch: 1 });
    items.unwrapItemKey(wrap, "d0000000-0000-4000-8000-000000000001", { encryptionSecret: user.encryptionSecret, binding: keys.encryptionBinding(user) });
  });
}

function statementsFile(c: Checks, v: Json): void {
  const epochs = list(v.user_epochs);
  const bindings = epochs.flatMap((e) => [bindingOf(obj(e.encryption)), bindingOf(obj(e.signing))]);
  const userId = str(obj(epochs[0]?.encryption).subject_id);
  const signerOf = (epoch: number): statements.Signer => {
    const seed = hex(epochs.find((e) => num(e.epoch) === epoch)?.ed25519_seed);
    return { userId, epoch, signingSecret: sodium.ed25519KeypairFromSeed(seed).secretKey };
  };
  for (const e of epochs) {
    const label = `user epoch ${num(e.epoch)}`;
    c.equal(`${label}: signing key from its seed`, () => sodium.ed25519KeypairFromSeed(hex(e.ed25519_seed)).publicKey, bindingOf(obj(e.signing)).publicKey);
    c.equal(`${label}: encryption leaf hash`, () => tlog.leafHash(tlog.bindingToLeaf(bindingOf(obj(e.encryption)))), hex(e.encryption_leaf_hash));
    c.equal(`${label}: signing leaf hash`, () => tlog.leafHash(tlog.bindingToLeaf(bindingOf(obj(e.signing)))), hex(e.signing_leaf_hash));
  }
  const kinds: Record<string, statements.EndorsementKind> = { rotation: statements.EndorsementKind.Rotation, reset: statements.EndorsementKind.Reset };
  const endorsementLeaves = list(v.endorsements).map((e) => hex(e.leaf));
  for (const e of list(v.endorsements)) {
    const epoch = num(e.epoch);
    const label = `endorsement of epoch ${epoch} (${str(e.kind)})`;
    const pair = epochs.find((x) => num(x.epoch) === epoch) as Json;
    c.equal(`${label}: leaf hash`, () => tlog.leafHash(hex(e.leaf)), hex(e.leaf_hash));
    c.equal(`${label}: parsed`, () => statements.endorsementFromLeaf(hex(e.leaf)).signerEpoch, num(e.signer_epoch));
    c.equal(
      `${label}: rebuilt`,
      () => statements.endorseKeys(bindingOf(obj(pair.encryption)), bindingOf(obj(pair.signing)), kinds[str(e.kind)] as statements.EndorsementKind, signerOf(num(e.signer_epoch))),
      hex(e.leaf),
    );
  }
  const parsedEndorsements = () => endorsementLeaves.map(statements.endorsementFromLeaf);
  c.equal("key chain verifies", () => statements.verifyKeyChain(userId, bindings, parsedEndorsements()).map((x) => x.kind ?? 0).join(","), `0,${list(v.endorsements).map((e) => kinds[str(e.kind)]).join(",")}`);
  c.refuses("key chain without its last endorsement", ProofInvalid, () => statements.verifyKeyChain(userId, bindings, parsedEndorsements().slice(0, -1)));
  c.refuses("key chain without epoch 1", ProofInvalid, () => statements.verifyKeyChain(userId, bindings.slice(2), parsedEndorsements()));
  c.refuses("key chain of another user", WrongContext, () => statements.verifyKeyChain("a0000000-0000-4000-8000-00000000ffff", bindings, parsedEndorsements()));
  c.refuses("key chain with another epoch 2 key", ProofInvalid, () =>
    statements.verifyKeyChain(userId, bindings.map((b) => (b.epoch === 2 && b.purpose === 1 ? { ...b, publicKey: flip(b.publicKey, 0) } : b)), parsedEndorsements()),
  );
  const closest = (leaf: Uint8Array, among: Uint8Array[]): number => {
    const distance = (other: Uint8Array) => (other.length !== leaf.length ? Infinity : leaf.reduce((n, byte, i) => n + (byte === other[i] ? 0 : 1), 0));
    return among.reduce((best, other, i) => (distance(other) < distance(among[best] as Uint8Array) ? i : best), 0);
  };
  for (const t of list(v.endorsement_tampered)) {
    c.refuses(`endorsement with its ${str(t.field)} changed`, CryptoError, () => {
      const leaves = [...endorsementLeaves];
      leaves[closest(hex(t.leaf), leaves)] = hex(t.leaf);
      statements.verifyKeyChain(userId, bindings, leaves.map(statements.endorsementFromLeaf));
    });
  }

  const signers = obj(v.signers);
  const keysOf = statements.signingKeysOf(Object.values(signers).map((s) => bindingOf(obj(s))));
  const roles: Record<string, statements.Role> = { removed: 0, practitioner: 1, secretary: 2, admin: 3 };
  const membershipLeaves = list(v.membership).map((m) => hex(m.leaf));
  const parsed = () => membershipLeaves.map(statements.membershipFromLeaf);
  const groupId = parsed()[0]?.groupId as string;
  for (const [i, m] of list(v.membership).entries()) {
    const label = `membership ${num(m.sequence)} (${str(m.role)})`;
    c.equal(`${label}: leaf hash`, () => tlog.leafHash(hex(m.leaf)), hex(m.leaf_hash));
    c.equal(`${label}: member and role`, () => `${parsed()[i]?.memberId}:${parsed()[i]?.role}`, `${str(m.member_id)}:${roles[str(m.role)]}`);
    c.equal(
      `${label}: rebuilt`,
      () => {
        const statement = parsed()[i] as statements.MembershipStatement;
        return statements.signMembership(groupId, num(m.sequence), statement.previous, str(m.member_id), roles[str(m.role)] as statements.Role, signerOf(statement.signerEpoch));
      },
      hex(m.leaf),
    );
  }
  const chain = () => statements.verifyMembershipChain(groupId, parsed(), keysOf);
  c.equal("membership chain: sequence", () => chain().sequence, membershipLeaves.length);
  c.equal("membership chain: head", () => chain().head, hex(list(v.membership).at(-1)?.leaf_hash));
  for (const [i, m] of list(v.membership).entries()) {
    c.equal(`membership chain: role of ${str(m.member_id).slice(-1)} after ${i + 1}`, () => chain().roleAt(str(m.member_id), i + 1), roles[str(m.role)] as number);
  }
  c.refuses("membership chain without its genesis", ProofInvalid, () => statements.verifyMembershipChain(groupId, parsed().slice(1), keysOf));
  c.refuses("membership chain out of order", ProofInvalid, () => statements.verifyMembershipChain(groupId, [parsed()[0], parsed()[2], parsed()[1]] as statements.MembershipStatement[], keysOf));
  c.refuses("membership chain without the signer's key", ProofInvalid, () => statements.verifyMembershipChain(groupId, parsed(), new Map()));
  c.refuses("membership chain of another group", WrongContext, () => statements.verifyMembershipChain("b0000000-0000-4000-8000-00000000ffff", parsed(), keysOf));
  c.refuses("membership chain, sequence beyond its end", ProofInvalid, () => chain().roleAt(groupId, membershipLeaves.length + 1));
  for (const t of list(v.membership_tampered)) {
    c.refuses(`membership statement with its ${str(t.field)} changed`, CryptoError, () => {
      const leaves = [...membershipLeaves];
      leaves[closest(hex(t.leaf), leaves)] = hex(t.leaf);
      statements.verifyMembershipChain(groupId, leaves.map(statements.membershipFromLeaf), keysOf);
    });
  }

  const g = obj(v.group_epoch);
  const groupKey = bindingOf(obj(g.group_key));
  const members = list(g.members).map((m) => ({ memberId: str(m.member_id), encryptionEpoch: num(m.encryption_epoch) }));
  const statement = () => statements.groupEpochFromLeaf(hex(g.leaf));
  c.equal("member set digest", () => statements.memberSetDigest(members), hex(g.member_set_digest));
  c.equal("member set digest, members in another order", () => statements.memberSetDigest([...members].reverse()), hex(g.member_set_digest));
  c.equal("group epoch: leaf hash", () => tlog.leafHash(hex(g.leaf)), hex(g.leaf_hash));
  c.equal("group epoch: rebuilt", () => statements.signGroupEpoch(groupKey, statement().membershipSequence, members, signerOf(statement().signerEpoch)), hex(g.leaf));
  c.run("group epoch verifies", () => statements.verifyGroupEpoch(statement(), groupKey, chain(), members, keysOf));
  c.refuses("group epoch, a member left out", ProofInvalid, () => statements.verifyGroupEpoch(statement(), groupKey, chain(), members.slice(1), keysOf));
  c.refuses("group epoch, a member listed twice", ProofInvalid, () => statements.verifyGroupEpoch(statement(), groupKey, chain(), [...members, ...members.slice(0, 1)], keysOf));
  c.refuses("group epoch, another key", ProofInvalid, () => statements.verifyGroupEpoch(statement(), { ...groupKey, publicKey: flip(groupKey.publicKey, 0) }, chain(), members, keysOf));
  c.refuses("group epoch, another epoch", ProofInvalid, () => statements.verifyGroupEpoch(statement(), { ...groupKey, epoch: groupKey.epoch + 1 }, chain(), members, keysOf));
  const withStranger = [...members, { memberId: "a0000000-0000-4000-8000-00000000ffff", encryptionEpoch: 1 }];
  c.refuses("group epoch, signed for someone the chain never attested", ProofInvalid, () => {
    const signed = statements.signGroupEpoch(groupKey, statement().membershipSequence, withStranger, signerOf(statement().signerEpoch));
    statements.verifyGroupEpoch(statements.groupEpochFromLeaf(signed), groupKey, chain(), withStranger, keysOf);
  });
  for (const t of list(v.group_epoch_tampered)) {
    c.refuses(`group epoch with its ${str(t.field)} changed`, CryptoError, () => statements.verifyGroupEpoch(statements.groupEpochFromLeaf(hex(t.leaf)), groupKey, chain(), members, keysOf));
  }
  clinicalEpochChecks(c, v, chain, groupKey, members, keysOf, signerOf(statement().signerEpoch));
}

/** The practitioners-only group's epochs over the same chain (verify_clinical_epoch): made by the
 * chain's practitioner while attested, wrapped for practitioners only, under the derived id. The
 * practitioner's signing key is one of this runner's (the vectors hold the admin's seeds only). */
function clinicalEpochChecks(
  c: Checks,
  v: Json,
  chain: () => statements.MembershipChain,
  practiceKey: tlog.KeyBinding,
  practiceMembers: statements.GroupMember[],
  keysOf: statements.SigningKeys,
  admin: statements.Signer,
): void {
  const links = list(v.membership);
  const practitionerLink = links.findIndex((m) => str(m.role) === "practitioner");
  const secretaryLink = links.findIndex((m) => str(m.role) === "secretary");
  const practitionerId = str(links[practitionerLink]?.member_id);
  const secretaryId = str(links[secretaryLink]?.member_id);
  const attestedAt = practitionerLink + 1;
  const pair = sodium.ed25519KeypairFromSeed(new Uint8Array(32).fill(0x0c));
  const practitioner: statements.Signer = { userId: practitionerId, epoch: 1, signingSecret: pair.secretKey };
  const practitionerKey: tlog.KeyBinding = { subjectKind: tlog.SubjectKind.User, subjectId: practitionerId, purpose: tlog.KeyPurpose.Signing, epoch: 1, publicKey: pair.publicKey };
  const keys = new Map([...keysOf, ...statements.signingKeysOf([practitionerKey])]);
  const clinicalKey: tlog.KeyBinding = { ...practiceKey, subjectId: groups.clinicalGroupId(chain().groupId), epoch: 1 };
  const only = [{ memberId: practitionerId, encryptionEpoch: 1 }];
  const made = (signer: statements.Signer, wrapped: statements.GroupMember[], sequence = attestedAt, key = clinicalKey) =>
    statements.groupEpochFromLeaf(statements.signGroupEpoch(key, sequence, wrapped, signer));
  c.run("clinical epoch verifies", () => statements.verifyClinicalEpoch(made(practitioner, only), clinicalKey, chain(), only, keys));
  c.refuses("clinical epoch signed by an admin", ProofInvalid, () => statements.verifyClinicalEpoch(made(admin, only), clinicalKey, chain(), only, keys));
  const withSecretary = [...only, { memberId: secretaryId, encryptionEpoch: 1 }];
  c.refuses("clinical epoch wrapped for a secretary", ProofInvalid, () => statements.verifyClinicalEpoch(made(practitioner, withSecretary), clinicalKey, chain(), withSecretary, keys));
  if (attestedAt < chain().sequence && chain().roleAt(practitionerId, chain().sequence) === statements.Role.Removed) {
    c.refuses("clinical epoch signed after the practitioner left", ProofInvalid, () =>
      statements.verifyClinicalEpoch(made(practitioner, only, chain().sequence), clinicalKey, chain(), only, keys),
    );
  }
  c.refuses("clinical epoch under the practice's own id", WrongContext, () =>
    statements.verifyClinicalEpoch(made(practitioner, only, attestedAt, { ...clinicalKey, subjectId: chain().groupId }), { ...clinicalKey, subjectId: chain().groupId }, chain(), only, keys),
  );
  c.refuses("the practice group's epoch taken for a clinical one", WrongContext, () =>
    statements.verifyClinicalEpoch(made(admin, practiceMembers, attestedAt, practiceKey), clinicalKey, chain(), practiceMembers, keys),
  );
}

function clinicalGroupsFile(c: Checks, v: Json): void {
  for (const t of list(v.cases)) {
    c.equal(str(t.practice_id), () => groups.clinicalGroupId(str(t.practice_id)), str(t.clinical_group_id));
    c.equal(`${str(t.practice_id)}, upper case`, () => groups.clinicalGroupId(str(t.practice_id).toUpperCase()), str(t.clinical_group_id));
  }
}

function cosignaturesFile(c: Checks, v: Json): void {
  const origin = str(v.origin);
  const logKey = Uint8Array.from(atob(str(v.log_public_key)), (ch) => ch.charCodeAt(0));
  const b64 = (text: unknown) => Uint8Array.from(atob(str(text)), (ch) => ch.charCodeAt(0));
  c.equal("log public key", () => sodium.ed25519KeypairFromSeed(hex(v.log_ed25519_seed)).publicKey, logKey);
  const checkpoint = () => tlog.verifyCheckpoint(str(v.checkpoint), origin, logKey);
  const pinned = new Map(list(v.witnesses).map((w) => [str(w.name), b64(w.public_key)] as const));
  for (const w of list(v.witnesses)) {
    const name = str(w.name);
    const label = `witness ${name}`;
    c.equal(`${label}: public key`, () => sodium.ed25519KeypairFromSeed(hex(w.ed25519_seed)).publicKey, b64(w.public_key));
    c.equal(`${label}: key id`, () => witness.cosignatureKeyId(name, b64(w.public_key)), hex(w.key_id));
    c.equal(`${label}: signed message`, () => new TextDecoder().decode(witness.cosignedMessage(checkpoint(), BigInt(num(w.timestamp)))), str(w.signed_message));
    c.equal(`${label}: cosignature rebuilt`, () => witness.cosign(checkpoint(), name, hex(w.ed25519_seed), BigInt(num(w.timestamp))), `${str(w.cosignature_line)}${str(w.cosignature_line).endsWith("\n") ? "" : "\n"}`);
    const encoded = str(w.cosignature_line).trim().split(" ")[2] as string;
    c.equal(`${label}: cosignature verifies`, () => Number(witness.verifyCosignature(checkpoint(), name, b64(w.public_key), encoded).timestamp), num(w.timestamp));
    c.refuses(`${label}: under another name`, ProofInvalid, () => witness.verifyCosignature(checkpoint(), `${name}x`, b64(w.public_key), encoded));
  }
  const threshold = num(v.threshold);
  c.equal("cosigned checkpoint at the threshold", () => witness.verifyWitnessedCheckpoint(str(v.cosigned_checkpoint), origin, logKey, pinned, threshold).treeSize, checkpoint().treeSize);
  c.equal("cosigned checkpoint, threshold 0", () => witness.verifyWitnessedCheckpoint(str(v.checkpoint), origin, logKey, pinned, 0).treeSize, checkpoint().treeSize);
  const newest = list(v.witnesses).reduce((t, w) => Math.max(t, num(w.timestamp)), 0);
  c.refuses("cosignatures older than not-before", ProofInvalid, () => witness.verifyWitnessedCheckpoint(str(v.cosigned_checkpoint), origin, logKey, pinned, threshold, BigInt(newest)));
  c.refuses("the log's signature alone for a threshold", ProofInvalid, () => witness.verifyWitnessedCheckpoint(str(v.checkpoint), origin, logKey, pinned, 1));
  c.refuses("cosigned, but not by the log", ProofInvalid, () => witness.verifyWitnessedCheckpoint(str(v.cosigned_checkpoint), origin, b64(list(v.witnesses)[0]?.public_key), pinned, threshold));
  for (const r of list(v.refused)) {
    c.refuses(str(r.case), ProofInvalid, () => witness.verifyWitnessedCheckpoint(str(r.note), origin, logKey, pinned, threshold));
  }
}

/** The vector files this runner knows, by file name; the browser test asserts that every file
 * it is given was run, and lists the files it leaves out on purpose. */
export const RUNNERS: Record<string, (c: Checks, v: Json) => void> = {
  "argon2id.json": argon2idFile,
  "kdf.json": kdfFile,
  "blake2b.json": blake2bFile,
  "x25519.json": x25519File,
  "ed25519.json": ed25519File,
  "xchacha20poly1305.json": xchachaFile,
  "login.json": loginFile,
  "key_bundle.json": keyBundleFile,
  "key_reset.json": keyResetFile,
  "items.json": itemsFile,
  "conversations.json": conversationsFile,
  "clinical_groups.json": clinicalGroupsFile,
  "groups.json": groupsFile,
  "clear_headers.json": clearHeadersFile,
  "documents.json": documentsFile,
  "sealed_documents.json": sealedDocumentsFile,
  "merkle_rfc6962.json": merkleFile,
  "signed_note.json": signedNoteFile,
  "transparency.json": transparencyFile,
  "log_recipes.json": logRecipesFile,
  "cosignatures.json": cosignaturesFile,
  "statements.json": statementsFile,
};

export function selfTest({ vectors }: { vectors: Record<string, unknown> }): SelfTestReport {
  const checks = new Checks();
  for (const [file, content] of Object.entries(vectors)) {
    const runner = RUNNERS[file];
    checks.start(file);
    if (runner === undefined) {
      checks.failures.push(`${file}: no runner for this file (${MARKER})`);
      continue;
    }
    try {
      runner(checks, content as Json);
    } catch (error) {
      checks.failures.push(`${file}: stopped: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
  }
  return { checks: checks.counts, failures: checks.failures };
}
