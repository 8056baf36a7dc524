// The initial data of the "My appointments" and "Relatives" components, read from the page's
// <script type="application/json"> and checked: a template change that drops a field leaves the
// server-rendered page as it is rather than mounting a broken component.
import type { DirectoryPin } from "../../crypto/protocol";
import type { Lang } from "../i18n";
import type { VisitTypeChoice } from "../island";
import { readPin } from "../keys/pin";
import type { RelativeKind } from "./messages";

export interface ChangeableAppointment {
  id: string;
  practiceId: string;
  practitionerId: string;
  durationMinutes: number;
  startsAt: string;
  timezone: string;
  /** The practice's local day, by the server's clock: where the search for new slots starts. */
  today: string;
}

/** An appointment whose reason and visit type are sealed: the page marks where they go. */
export interface SealedAppointment {
  id: string;
  practiceId: string;
}

/** A waitlist offer held for one of the account's patients: what its decision needs. */
export interface HeldOffer {
  id: string;
  practiceId: string;
  /** The held appointment's id: the reason is sealed under it. */
  appointmentId: string;
  /** The practitioner's online visit types of the offer's length, one of which is sealed. */
  visitTypes: VisitTypeChoice[];
}

/** A waitlist entry still open, which its patient may leave. */
export interface OpenEntry {
  id: string;
  practiceId: string;
}

export interface AppointmentsData {
  lang: Lang;
  appointments: ChangeableAppointment[];
  sealed: SealedAppointment[];
  /** Visit type id -> label, for the practices of the sealed appointments. */
  visitTypes: Record<string, string>;
  offers: HeldOffer[];
  entries: OpenEntry[];
  pin: DirectoryPin;
  /** The signed-in holder's address: the unlock form asks only for the password. */
  email: string;
}

export interface Relative {
  id: string;
  firstName: string;
  lastName: string;
  birthDate: string;
  relationship: RelativeKind;
}

export interface RelativesData {
  lang: Lang;
  relationships: RelativeKind[];
  relatives: Relative[];
}

const KINDS: readonly string[] = ["child", "parent", "partner", "sibling", "dependant", "other"];

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${what}: not an object`);
  }
  return value as Record<string, unknown>;
}

function text(raw: Record<string, unknown>, key: string): string {
  const value = raw[key];
  if (typeof value !== "string") throw new Error(`${key} is not text`);
  return value;
}

function list(raw: Record<string, unknown>, key: string): unknown[] {
  const value = raw[key];
  if (!Array.isArray(value)) throw new Error(`${key} is not a list`);
  return value;
}

function lang(raw: Record<string, unknown>): Lang {
  const value = text(raw, "lang");
  if (value !== "fr" && value !== "en") throw new Error("unknown language");
  return value;
}

function kind(value: string): RelativeKind {
  if (!KINDS.includes(value)) throw new Error("unknown relationship");
  return value as RelativeKind;
}

export function readAppointmentsData(value: unknown): AppointmentsData {
  const raw = record(value, "appointments data");
  return {
    lang: lang(raw),
    appointments: list(raw, "appointments").map((item) => {
      const a = record(item, "appointment");
      const minutes = a["durationMinutes"];
      if (typeof minutes !== "number") throw new Error("durationMinutes is not a number");
      return {
        id: text(a, "id"),
        practiceId: text(a, "practiceId"),
        practitionerId: text(a, "practitionerId"),
        durationMinutes: minutes,
        startsAt: text(a, "startsAt"),
        timezone: text(a, "timezone"),
        today: text(a, "today"),
      };
    }),
    sealed: list(raw, "sealed").map((item) => {
      const a = record(item, "sealed appointment");
      return { id: text(a, "id"), practiceId: text(a, "practiceId") };
    }),
    visitTypes: Object.fromEntries(Object.entries(record(raw["visitTypes"], "visitTypes")).map(([id, label]) => [id, String(label)])),
    offers: list(raw, "offers").map((item) => {
      const o = record(item, "offer");
      return {
        id: text(o, "id"),
        practiceId: text(o, "practiceId"),
        appointmentId: text(o, "appointmentId"),
        visitTypes: list(o, "visitTypes").map((choice) => {
          const vt = record(choice, "visit type");
          const minutes = vt["durationMinutes"];
          if (typeof minutes !== "number") throw new Error("durationMinutes is not a number");
          return { id: text(vt, "id"), label: text(vt, "label"), durationMinutes: minutes, reminders: vt["reminders"] !== false };
        }),
      };
    }),
    entries: list(raw, "entries").map((item) => {
      const e = record(item, "entry");
      return { id: text(e, "id"), practiceId: text(e, "practiceId") };
    }),
    pin: readPin(raw["pin"]),
    email: text(raw, "email"),
  };
}

export function readRelativesData(value: unknown): RelativesData {
  const raw = record(value, "relatives data");
  return {
    lang: lang(raw),
    relationships: list(raw, "relationships").map((item) => kind(String(item))),
    relatives: list(raw, "relatives").map((item) => {
      const r = record(item, "relative");
      return {
        id: text(r, "id"),
        firstName: text(r, "firstName"),
        lastName: text(r, "lastName"),
        birthDate: text(r, "birthDate"),
        relationship: kind(text(r, "relationship")),
      };
    }),
  };
}
