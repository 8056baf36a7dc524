// The messages and documents page's data from the server (<script type="application/json">),
// checked before use.
import type { DirectoryPin } from "../../crypto/protocol";
import type { Lang } from "../i18n";

export interface RecordData {
  lang: Lang;
  practiceId: string;
  patientId: string;
  practiceName: string;
  /** The largest document the format carries (100 MiB). */
  maxBytes: number;
  pin: DirectoryPin;
  /** The signed-in account's address, shown by the unlock form. */
  email: string;
}

type Json = Record<string, unknown>;

function record(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`record data: ${what} is not an object`);
  return value as Json;
}

function text(raw: Json, key: string): string {
  const value = raw[key];
  if (typeof value !== "string") throw new Error(`record data: ${key} is not text`);
  return value;
}

function number(raw: Json, key: string): number {
  const value = raw[key];
  if (typeof value !== "number") throw new Error(`record data: ${key} is not a number`);
  return value;
}

function bytes(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
}

export function readRecordData(value: unknown): RecordData {
  const raw = record(value, "the data");
  const lang = text(raw, "lang");
  if (lang !== "fr" && lang !== "en") throw new Error("record data: unknown language");
  const pin = record(raw["pin"], "pin");
  const witnesses = record(pin["witnesses"], "witnesses");
  return {
    lang,
    practiceId: text(raw, "practiceId"),
    patientId: text(raw, "patientId"),
    practiceName: text(raw, "practiceName"),
    maxBytes: number(raw, "maxBytes"),
    email: text(raw, "email"),
    pin: {
      origin: text(pin, "origin"),
      logPublicKey: bytes(text(pin, "logPublicKey")),
      witnesses: Object.fromEntries(Object.entries(witnesses).map(([name, key]) => [name, bytes(String(key))])),
      threshold: number(pin, "threshold"),
    },
  };
}
