// The initial data of the settings and time off pages, read from the page's
// <script type="application/json"> and checked, as the other islands' data are.
import type { Lang } from "../i18n";

export interface PractitionerChoice {
  id: string;
  name: string;
}

export interface PracticeData {
  lang: Lang;
  practiceId: string;
  practiceName: string;
  timezone: string;
  /** The practice's local day by the server's clock. */
  today: string;
  practitioners: PractitionerChoice[];
}

export interface SettingsData extends PracticeData {
  /** Agenda managers (secretaries, admins) edit; the others read. */
  canManage: boolean;
  /** Admins alone change the practice's settings and add practitioners. */
  canManageSettings: boolean;
  specialties: { value: string; label: string }[];
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${what}: not an object`);
  return value as Record<string, unknown>;
}

function text(raw: Record<string, unknown>, key: string): string {
  const value = raw[key];
  if (typeof value !== "string") throw new Error(`practice data: ${key} is not text`);
  return value;
}

function flag(raw: Record<string, unknown>, key: string): boolean {
  const value = raw[key];
  if (typeof value !== "boolean") throw new Error(`practice data: ${key} is not a boolean`);
  return value;
}

export function readPracticeData(value: unknown): PracticeData {
  const raw = record(value, "practice data");
  const lang = text(raw, "lang");
  if (lang !== "fr" && lang !== "en") throw new Error("practice data: unknown language");
  const practitioners = raw["practitioners"];
  if (!Array.isArray(practitioners)) throw new Error("practice data: practitioners is not a list");
  return {
    lang,
    practiceId: text(raw, "practiceId"),
    practiceName: text(raw, "practiceName"),
    timezone: text(raw, "timezone"),
    today: text(raw, "today"),
    practitioners: practitioners.map((item: unknown) => {
      const entry = record(item, "practitioner");
      return { id: text(entry, "id"), name: text(entry, "name") };
    }),
  };
}

export function readSettingsData(value: unknown): SettingsData {
  const raw = record(value, "settings data");
  const specialties = raw["specialties"];
  if (!Array.isArray(specialties)) throw new Error("settings data: specialties is not a list");
  return {
    ...readPracticeData(raw),
    canManage: flag(raw, "canManage"),
    canManageSettings: flag(raw, "canManageSettings"),
    specialties: specialties.map((item: unknown) => {
      const entry = record(item, "specialty");
      return { value: text(entry, "value"), label: text(entry, "label") };
    }),
  };
}
