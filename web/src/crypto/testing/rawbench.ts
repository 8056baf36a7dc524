// Test builds only: the agenda benchmark's floor. bench/web_agenda.py times the worker's
// openAgendaReasons on a week of sealed visit reasons, and compares it with this: the same items
// opened by the bare libsodium calls each one needs (the sealed box of the group wrap, the
// author's signature, the key commitment, the AEAD and the padding), with no envelope parsing
// beyond fixed offsets, no standing, directory or epoch checks and no message passing.
import { concat, utf8 } from "../encoding";
import * as sodium from "../sodium";

const WRAP_HEADER_BYTES = 39;
const ITEM_ID_AT = 3;
const COMMITMENT_AT = 51;
const NONCE_AT = 83;
const CIPHERTEXT_AT = 107;
const SIGNATURE_CONTEXT = utf8("colloque/item-signature/v1");
const COMMITMENT_CONTEXT = utf8("colloque/item-key-commitment/v1");

export interface RawItem {
  wrap: Uint8Array;
  envelope: Uint8Array;
  signingPublic: Uint8Array;
}

export interface RawOpenParams {
  groupPublic: Uint8Array;
  groupSecret: Uint8Array;
  items: RawItem[];
  rounds: number;
}

export interface RawOpenResult {
  milliseconds: number[];
  opened: number;
}

function openOne(item: RawItem, groupPublic: Uint8Array, groupSecret: Uint8Array): number {
  const inner = sodium.sealOpen(item.wrap.subarray(WRAP_HEADER_BYTES), groupPublic, groupSecret);
  const itemKey = inner.subarray(WRAP_HEADER_BYTES);
  const envelope = item.envelope;
  const signedEnd = envelope.length - sodium.SIGNATURE_BYTES;
  sodium.ed25519Verify(envelope.subarray(signedEnd), concat(SIGNATURE_CONTEXT, envelope.subarray(0, signedEnd)), item.signingPublic);
  const committed = sodium.blake2b(concat(COMMITMENT_CONTEXT, envelope.subarray(ITEM_ID_AT, ITEM_ID_AT + 16)), 32, itemKey);
  if (!sodium.equal(committed, envelope.subarray(COMMITMENT_AT, COMMITMENT_AT + 32))) throw new Error("commitment");
  const padded = sodium.aeadDecrypt(envelope.subarray(CIPHERTEXT_AT, signedEnd), envelope.subarray(0, CIPHERTEXT_AT), envelope.subarray(NONCE_AT, CIPHERTEXT_AT), itemKey);
  return sodium.unpad(padded, 256).length;
}

export function rawOpenReasons(params: RawOpenParams): RawOpenResult {
  const milliseconds: number[] = [];
  let opened = 0;
  for (let round = 0; round < params.rounds; round++) {
    opened = 0;
    const start = performance.now();
    for (const item of params.items) {
      if (openOne(item, params.groupPublic, params.groupSecret) > 0) opened++;
    }
    milliseconds.push(performance.now() - start);
  }
  return { milliseconds, opened };
}
