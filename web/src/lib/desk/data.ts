// The desk pages' data from the server (<script type="application/json">), checked before use.
import type { DirectoryPin } from "../../crypto/protocol";
import type { Lang } from "../i18n";
import type { VisitTypeChoice } from "../island";
import { readPin } from "../keys/pin";

export interface DeskPractitioner {
  id: string;
  name: string;
  visitTypes: VisitTypeChoice[];
}

export interface DeskData {
  lang: Lang;
  practiceId: string;
  practiceName: string;
  timezone: string;
  practitioners: DeskPractitioner[];
  /** Preselected by the agenda's "new appointment" (or null). */
  practitionerId: string | null;
  /** Preselected start, ISO in the practice's zone (or null). */
  startsAt: string | null;
  /** The practice's today (YYYY-MM-DD) by the server's clock: where the free slots start. */
  today: string;
  /** A patient's page is this followed by the patient's id. */
  patientsUrl: string;
  pin: DirectoryPin;
  /** The signed-in member's address, shown by the unlock form. */
  email: string;
}

export interface ContactData {
  lang: Lang;
  practiceId: string;
  patientId: string;
  phone: string | null;
  email: string | null;
  version: string;
}

type Json = Record<string, unknown>;

function record(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`desk data: ${what} is not an object`);
  return value as Json;
}

function text(raw: Json, key: string): string {
  const value = raw[key];
  if (typeof value !== "string") throw new Error(`desk data: ${key} is not text`);
  return value;
}

function optionalText(raw: Json, key: string): string | null {
  return raw[key] === null ? null : text(raw, key);
}

function language(raw: Json): Lang {
  const lang = text(raw, "lang");
  if (lang !== "fr" && lang !== "en") throw new Error("desk data: unknown language");
  return lang;
}

function list(raw: Json, key: string): unknown[] {
  const value = raw[key];
  if (!Array.isArray(value)) throw new Error(`desk data: ${key} is not a list`);
  return value;
}

export function readDeskData(value: unknown): DeskData {
  const raw = record(value, "the data");
  return {
    lang: language(raw),
    practiceId: text(raw, "practiceId"),
    practiceName: text(raw, "practiceName"),
    timezone: text(raw, "timezone"),
    practitioners: list(raw, "practitioners").map((item) => {
      const practitioner = record(item, "a practitioner");
      return {
        id: text(practitioner, "id"),
        name: text(practitioner, "name"),
        visitTypes: list(practitioner, "visitTypes").map((entry) => {
          const vt = record(entry, "a visit type");
          const minutes = vt["durationMinutes"];
          if (typeof minutes !== "number") throw new Error("desk data: a duration is not a number");
          return { id: text(vt, "id"), label: text(vt, "label"), durationMinutes: minutes, reminders: vt["reminders"] !== false };
        }),
      };
    }),
    practitionerId: optionalText(raw, "practitionerId"),
    startsAt: optionalText(raw, "startsAt"),
    today: text(raw, "today"),
    patientsUrl: text(raw, "patientsUrl"),
    pin: readPin(raw["pin"]),
    email: text(raw, "email"),
  };
}

export function readContactData(value: unknown): ContactData {
  const raw = record(value, "the data");
  return {
    lang: language(raw),
    practiceId: text(raw, "practiceId"),
    patientId: text(raw, "patientId"),
    phone: optionalText(raw, "phone"),
    email: optionalText(raw, "email"),
    version: text(raw, "version"),
  };
}
