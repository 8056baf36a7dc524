// Byte layouts shared by the envelopes (docs/crypto.md section 2): version and type bytes,
// big-endian integers, UUIDs as their 16 RFC 9562 bytes, and a bounds-checked reader.
import { MalformedEnvelope } from "./errors";

export const VERSION = 0x01;
export const UUID_BYTES = 16;
export const MAX_U32 = 0xffff_ffff;

export const EnvelopeType = {
  PrivateKeysLogin: 0x01,
  PrivateKeysRecovery: 0x02,
  Item: 0x03,
  ItemKeyWrap: 0x04,
  GroupKeyWrap: 0x05,
  Document: 0x06,
  KeyBinding: 0x07,
  KdfParams: 0x08,
  KeyEndorsement: 0x0a,
  Membership: 0x0b,
  GroupEpoch: 0x0c,
} as const;
export type EnvelopeType = (typeof EnvelopeType)[keyof typeof EnvelopeType];

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function prefix(type: EnvelopeType): Uint8Array {
  return Uint8Array.of(VERSION, type);
}

export function u32(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > MAX_U32) throw new RangeError("value does not fit in 32 bits");
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  // For public values only; secrets go through sodium.equal.
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function fromUtf8(data: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    throw new MalformedEnvelope("text is not UTF-8");
  }
}

export function toHex(data: Uint8Array): string {
  return Array.from(data, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new MalformedEnvelope("not hexadecimal");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 16 bytes of a UUID written canonically (the hex digits in order, as RFC 9562). */
export function uuidBytes(id: string): Uint8Array {
  if (!UUID_PATTERN.test(id)) throw new MalformedEnvelope("not a UUID");
  return fromHex(id.replaceAll("-", ""));
}

export function uuidString(data: Uint8Array): string {
  const hex = toHex(data);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function toBase64(data: Uint8Array): string {
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Standard base64 with padding, strictly: anything else throws MalformedEnvelope. */
export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new MalformedEnvelope("not base64");
  const binary = atob(text);
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

/** Reads an envelope front to back; a short read or a bad prefix throws MalformedEnvelope. */
export class Reader {
  private offset = 0;

  constructor(
    private readonly data: Uint8Array,
    type: EnvelopeType,
  ) {
    if (!(data instanceof Uint8Array)) throw new MalformedEnvelope("envelope must be bytes");
    if (this.u8() !== VERSION) throw new MalformedEnvelope("unsupported envelope version");
    if (this.u8() !== type) throw new MalformedEnvelope("not an envelope of the expected type");
  }

  take(size: number): Uint8Array {
    const end = this.offset + size;
    if (end > this.data.length) throw new MalformedEnvelope("envelope is too short");
    const chunk = this.data.slice(this.offset, end);
    this.offset = end;
    return chunk;
  }

  u8(): number {
    return this.take(1)[0] as number;
  }

  u32(): number {
    return new DataView(this.take(4).buffer).getUint32(0);
  }

  uuid(): string {
    return uuidString(this.take(UUID_BYTES));
  }

  /** Every byte read so far (the header, when called just before the ciphertext). */
  consumed(): Uint8Array {
    return this.data.slice(0, this.offset);
  }

  rest(): Uint8Array {
    const chunk = this.data.slice(this.offset);
    this.offset = this.data.length;
    return chunk;
  }

  /** Everything except the last `size` bytes (for a trailing signature). */
  takeAllBut(size: number): Uint8Array {
    const remaining = this.data.length - this.offset;
    if (remaining < size) throw new MalformedEnvelope("envelope is too short");
    return this.take(remaining - size);
  }

  end(): void {
    if (this.offset !== this.data.length) throw new MalformedEnvelope("trailing bytes after the envelope");
  }
}
