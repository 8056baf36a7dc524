// Documents (docs/crypto.md section 5.3, type 0x06): a libsodium secretstream in 64 KiB chunks,
// the same bytes as colloque.crypto.documents. Both directions take the bytes a piece at a time
// (cut anywhere), so that neither a whole file's plaintext nor its ciphertext has to sit in the
// worker at once; each also keeps the BLAKE2b-256 digest of the ciphertext stream, which the
// document's signed description carries (sealed_documents).
//
// Decryption hands out plaintext as each chunk authenticates, before the end of the stream is
// known to be intact: act on a document only once finish() returned and the digest matched.
import { EnvelopeType, Reader, concat, prefix, u32, uuidBytes } from "./encoding";
import { DecryptionFailed, MalformedEnvelope, WrongContext } from "./errors";
import * as sodium from "./sodium";

export const CHUNK_BYTES = 65_536;
export const FINAL_PAD_BLOCK = 4_096;
export const MAX_DOCUMENT_BYTES = 100 * 1024 * 1024;
export const HEADER_BYTES = 46;
export const CIPHERTEXT_CHUNK_BYTES = CHUNK_BYTES + sodium.STREAM_OVERHEAD;
export const DIGEST_BYTES = 32;
const MAX_CHUNKS = MAX_DOCUMENT_BYTES / CHUNK_BYTES + 1;

/** Plaintext in, the stream out: the header with the first piece, then every full chunk as soon
 * as it is complete, and the padded final chunk from finish(). */
export class DocumentEncryptor {
  private readonly state: sodium.StreamState;
  private readonly header: Uint8Array;
  private readonly hash = new sodium.Blake2bStream(DIGEST_BYTES);
  private pending = new Uint8Array(CHUNK_BYTES);
  private filled = 0;
  private total = 0;
  private started = false;
  private finished = false;

  constructor(documentId: string, key: Uint8Array) {
    const pushed = sodium.streamInitPush(key);
    this.state = pushed.state;
    this.header = concat(prefix(EnvelopeType.Document), uuidBytes(documentId), u32(CHUNK_BYTES), pushed.header);
  }

  private emit(parts: Uint8Array[]): Uint8Array {
    if (!this.started) {
      parts.unshift(this.header);
      this.started = true;
    }
    const out = concat(...parts);
    this.hash.update(out);
    return out;
  }

  /** The ciphertext this piece completes (possibly only the header, possibly nothing). */
  push(piece: Uint8Array): Uint8Array {
    if (this.finished) throw new RangeError("the document is already finished");
    this.total += piece.length;
    if (this.total > MAX_DOCUMENT_BYTES) throw new RangeError("documents are limited to 100 MiB");
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset < piece.length) {
      const taken = Math.min(CHUNK_BYTES - this.filled, piece.length - offset);
      this.pending.set(piece.subarray(offset, offset + taken), this.filled);
      this.filled += taken;
      offset += taken;
      if (this.filled === CHUNK_BYTES) {
        out.push(sodium.streamPush(this.state, this.pending, this.header, false));
        this.filled = 0;
      }
    }
    return this.emit(out);
  }

  /** The final chunk: what is left, padded to 4 KiB (a padding-only chunk when nothing is). */
  finish(): Uint8Array {
    if (this.finished) throw new RangeError("the document is already finished");
    this.finished = true;
    const rest = sodium.pad(this.pending.slice(0, this.filled), FINAL_PAD_BLOCK);
    sodium.wipe(this.pending);
    return this.emit([sodium.streamPush(this.state, rest, this.header, true)]);
  }

  /** BLAKE2b-256 of the whole stream, once finished. */
  digest(): Uint8Array {
    if (!this.finished) throw new RangeError("the document is not finished");
    return this.hash.digest();
  }
}

/** The stream in, cut anywhere; plaintext out as each chunk authenticates. */
export class DocumentDecryptor {
  private readonly hash = new sodium.Blake2bStream(DIGEST_BYTES);
  private state: sodium.StreamState | null = null;
  private header: Uint8Array | null = null;
  private pending: Uint8Array = new Uint8Array(0);
  private chunks = 0;
  private finished = false;

  constructor(
    private readonly documentId: string,
    private readonly key: Uint8Array,
  ) {}

  private start(header: Uint8Array): void {
    const reader = new Reader(header, EnvelopeType.Document);
    if (reader.uuid().toLowerCase() !== this.documentId.toLowerCase()) throw new WrongContext("the stream of another document");
    if (reader.u32() !== CHUNK_BYTES) throw new MalformedEnvelope("unsupported chunk size");
    this.state = sodium.streamInitPull(reader.take(sodium.STREAM_HEADER_BYTES), this.key);
    this.header = header;
  }

  private pull(ciphertext: Uint8Array): Uint8Array {
    this.chunks += 1;
    if (this.chunks > MAX_CHUNKS) throw new MalformedEnvelope("document is over 100 MiB");
    const { message, tag } = sodium.streamPull(this.state as sodium.StreamState, ciphertext, this.header as Uint8Array);
    if (tag === sodium.STREAM_TAG_FINAL) {
      this.finished = true;
      if (message.length % FINAL_PAD_BLOCK !== 0) throw new MalformedEnvelope("bad final chunk");
      return sodium.unpad(message, FINAL_PAD_BLOCK);
    }
    if (tag !== sodium.STREAM_TAG_MESSAGE || message.length !== CHUNK_BYTES) throw new MalformedEnvelope("unexpected chunk");
    return message;
  }

  /** The plaintext of every full chunk this piece completes. */
  push(piece: Uint8Array): Uint8Array {
    this.hash.update(piece);
    this.pending = concat(this.pending, piece);
    if (this.state === null) {
      if (this.pending.length < HEADER_BYTES) return new Uint8Array(0);
      this.start(this.pending.slice(0, HEADER_BYTES));
      this.pending = this.pending.slice(HEADER_BYTES);
    }
    const out: Uint8Array[] = [];
    let start = 0;
    while (this.pending.length - start >= CIPHERTEXT_CHUNK_BYTES && !this.finished) {
      out.push(this.pull(this.pending.subarray(start, start + CIPHERTEXT_CHUNK_BYTES)));
      start += CIPHERTEXT_CHUNK_BYTES;
    }
    this.pending = this.pending.slice(start);
    if (this.finished && this.pending.length > 0) throw new MalformedEnvelope("data after the end of the document");
    return concat(...out);
  }

  /** The rest of the plaintext; throws unless the stream ended with its final chunk. */
  finish(): Uint8Array {
    if (this.state === null) throw new MalformedEnvelope("document is too short");
    if (this.finished) return new Uint8Array(0);
    if (this.pending.length === 0) throw new DecryptionFailed("document is truncated");
    // Shorter than a full chunk, so it can only be the final one: pull() throws otherwise.
    const rest = this.pull(this.pending);
    this.pending = new Uint8Array(0);
    return rest;
  }

  /** BLAKE2b-256 of every byte received. */
  digest(): Uint8Array {
    return this.hash.digest();
  }
}

/** Throws unless the stream received is the one the author signed (its description's digest). */
export function checkDigest(received: Uint8Array, signed: Uint8Array): void {
  if (!sodium.equal(received, signed)) throw new DecryptionFailed("the document is not the one its author signed");
}
