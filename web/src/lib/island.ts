// The slot picker's initial data, read from the page's <script type="application/json">. It
// comes from our own server, but is checked anyway: a template change that drops a field should
// leave the server-rendered slots in place rather than mount a broken picker.
import type { Lang } from "./i18n";

export interface VisitTypeChoice {
  id: string;
  label: string;
  durationMinutes: number;
  /** The practice's reminder policy for this type, sent as the appointment's `reminders_wanted`
   * (the server never learns the type). Absent where no booking is made. */
  reminders?: boolean;
}

export interface SlotPickerData {
  lang: Lang;
  practiceId: string;
  practitionerId: string;
  timezone: string;
  visitTypes: VisitTypeChoice[];
  visitTypeId: string;
  week: string;
  firstWeek: string;
  lastWeek: string;
  /** The practice's day by the server's clock (the waitlist form starts there). */
  today: string;
  slots: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== "string") throw new Error(`slot picker data: ${key} is not text`);
  return value;
}

export function readSlotPickerData(raw: unknown): SlotPickerData {
  if (!isRecord(raw)) throw new Error("slot picker data: not an object");
  const lang = text(raw, "lang");
  if (lang !== "fr" && lang !== "en") throw new Error("slot picker data: unknown language");
  const visitTypes = raw["visitTypes"];
  const slots = raw["slots"];
  if (!Array.isArray(visitTypes) || !Array.isArray(slots)) {
    throw new Error("slot picker data: visitTypes and slots must be lists");
  }
  return {
    lang,
    practiceId: text(raw, "practiceId"),
    practitionerId: text(raw, "practitionerId"),
    timezone: text(raw, "timezone"),
    visitTypes: visitTypes.map((item: unknown) => {
      if (!isRecord(item) || typeof item["durationMinutes"] !== "number") {
        throw new Error("slot picker data: bad visit type");
      }
      return { id: text(item, "id"), label: text(item, "label"), durationMinutes: item["durationMinutes"] };
    }),
    visitTypeId: text(raw, "visitTypeId"),
    week: text(raw, "week"),
    firstWeek: text(raw, "firstWeek"),
    lastWeek: text(raw, "lastWeek"),
    today: text(raw, "today"),
    slots: slots.map((item: unknown) => {
      if (typeof item !== "string") throw new Error("slot picker data: bad slot");
      return item;
    }),
  };
}
