// The booking page's data from the server (<script type="application/json">), checked before use.
import type { DirectoryPin } from "../../crypto/protocol";
import type { CheckedFile } from "../checked-import";
import type { Lang } from "../i18n";
import type { VisitTypeChoice } from "../island";
import { readPin } from "../keys/pin";

export interface BookingData {
  lang: Lang;
  practiceId: string;
  practitionerId: string;
  practitionerName: string;
  practiceName: string;
  address: string;
  timezone: string;
  /** The chosen slot, ISO 8601 in the practice's zone. */
  slot: string;
  visitTypes: VisitTypeChoice[];
  visitTypeId: string;
  practitionerUrl: string;
  pin: DirectoryPin;
  /** The signed-in account's address (the unlock form asks only for the password), or null
   * when the page was asked for without a session. */
  email: string | null;
  /** The chunks the page loads on demand (the log-in and sign-up forms), by name, with their
   * integrity. */
  lazy: Record<string, CheckedFile[]>;
}

type Json = Record<string, unknown>;

function record(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`booking data: ${what} is not an object`);
  return value as Json;
}

function text(raw: Json, key: string): string {
  const value = raw[key];
  if (typeof value !== "string") throw new Error(`booking data: ${key} is not text`);
  return value;
}

export function readBookingData(value: unknown): BookingData {
  const raw = record(value, "the data");
  const lang = text(raw, "lang");
  if (lang !== "fr" && lang !== "en") throw new Error("booking data: unknown language");
  const visitTypes = raw["visitTypes"];
  if (!Array.isArray(visitTypes) || visitTypes.length === 0) throw new Error("booking data: no visit types");
  return {
    lang,
    practiceId: text(raw, "practiceId"),
    practitionerId: text(raw, "practitionerId"),
    practitionerName: text(raw, "practitionerName"),
    practiceName: text(raw, "practiceName"),
    address: text(raw, "address"),
    timezone: text(raw, "timezone"),
    slot: text(raw, "slot"),
    visitTypes: visitTypes.map((item: unknown) => {
      const vt = record(item, "a visit type");
      const minutes = vt["durationMinutes"];
      if (typeof minutes !== "number") throw new Error("booking data: a duration is not a number");
      return { id: text(vt, "id"), label: text(vt, "label"), durationMinutes: minutes, reminders: vt["reminders"] !== false };
    }),
    visitTypeId: text(raw, "visitTypeId"),
    practitionerUrl: text(raw, "practitionerUrl"),
    pin: readPin(raw["pin"]),
    email: raw["email"] === null ? null : text(raw, "email"),
    lazy: Object.fromEntries(
      Object.entries(record(raw["lazy"], "lazy")).map(([chunk, files]) => {
        if (!Array.isArray(files)) throw new Error(`booking data: the files of ${chunk} are not a list`);
        return [chunk, files.map((item: unknown) => {
          const file = record(item, "a lazy file");
          return { path: text(file, "path"), integrity: text(file, "integrity") };
        })];
      }),
    ),
  };
}
