// The agenda page's data from the server (<script type="application/json">), checked before use.
import type { DirectoryPin } from "../../crypto/protocol";
import type { Lang } from "../i18n";

export interface VisitTypeInfo {
  id: string;
  label: string;
}

export interface PractitionerInfo {
  id: string;
  name: string;
  visitTypes: VisitTypeInfo[];
}

export interface AgendaData {
  lang: Lang;
  practiceId: string;
  practiceName: string;
  /** The practice's IANA zone: every time on the screen is a wall time there. */
  timezone: string;
  /** Today in the practice's zone (YYYY-MM-DD), by the server's clock. */
  today: string;
  practitioners: PractitionerInfo[];
  /** `readNotes`: the role opens patients' notes (practitioners: sealed for their key group). */
  may: { readReasons: boolean; readNotes: boolean; change: boolean; mark: boolean; book: boolean };
  pin: DirectoryPin;
  email: string;
}

type Json = Record<string, unknown>;

function record(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`agenda data: ${what} is not an object`);
  return value as Json;
}

function text(raw: Json, key: string): string {
  const value = raw[key];
  if (typeof value !== "string") throw new Error(`agenda data: ${key} is not text`);
  return value;
}

function flag(raw: Json, key: string): boolean {
  const value = raw[key];
  if (typeof value !== "boolean") throw new Error(`agenda data: ${key} is not a boolean`);
  return value;
}

function list(raw: Json, key: string): unknown[] {
  const value = raw[key];
  if (!Array.isArray(value)) throw new Error(`agenda data: ${key} is not a list`);
  return value;
}

function bytes(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
}

export function readAgendaData(value: unknown): AgendaData {
  const raw = record(value, "the data");
  const lang = text(raw, "lang");
  if (lang !== "fr" && lang !== "en") throw new Error("agenda data: unknown language");
  const today = text(raw, "today");
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new Error("agenda data: today is not a day");
  const may = record(raw["may"], "may");
  const pin = record(raw["pin"], "pin");
  const witnesses = record(pin["witnesses"], "witnesses");
  const threshold = pin["threshold"];
  if (typeof threshold !== "number") throw new Error("agenda data: threshold is not a number");
  return {
    lang,
    practiceId: text(raw, "practiceId"),
    practiceName: text(raw, "practiceName"),
    timezone: text(raw, "timezone"),
    today,
    practitioners: list(raw, "practitioners").map((p) => {
      const entry = record(p, "a practitioner");
      return {
        id: text(entry, "id"),
        name: text(entry, "name"),
        visitTypes: list(entry, "visitTypes").map((v) => {
          const type = record(v, "a visit type");
          return { id: text(type, "id"), label: text(type, "label") };
        }),
      };
    }),
    may: { readReasons: flag(may, "readReasons"), readNotes: flag(may, "readNotes"), change: flag(may, "change"), mark: flag(may, "mark"), book: flag(may, "book") },
    email: text(raw, "email"),
    pin: {
      origin: text(pin, "origin"),
      logPublicKey: bytes(text(pin, "logPublicKey")),
      witnesses: Object.fromEntries(Object.entries(witnesses).map(([name, key]) => [name, bytes(String(key))])),
      threshold,
    },
  };
}
