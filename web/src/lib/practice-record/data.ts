// The practice patient page's record data from the server (<script type="application/json">),
// checked before use: who the patient is, and what this member's role may open (the server's
// policy decides; the API refuses the rest anyway).
import type { DirectoryPin } from "../../crypto/protocol";
import type { Lang } from "../i18n";
import { readPin } from "../keys/pin";

/** One of the patient's appointments with its sealed visit reason (the practice's wraps). */
export interface SealedReasonData {
  appointmentId: string;
  when: { iso: string; day: string; time: string };
  itemId: string;
  envelope: string;
  wraps: string[];
}

export interface PracticeRecordData {
  lang: Lang;
  practiceId: string;
  practiceName: string;
  patientId: string;
  /** The account that holds the patient (null: none), whose key messages are sealed for too. */
  holderId: string | null;
  /** Visit reasons: sealed for the practice group, which every member's role holds. */
  mayReadReasons: boolean;
  /** Notes and documents: practitioners only (practice:clinical_record:read and write); notes
   * are sealed for the practitioners' key group. */
  mayReadClinical: boolean;
  mayWriteClinical: boolean;
  mayReadMessages: boolean;
  maySendMessages: boolean;
  /** The appointments' sealed reasons, latest first (none for a member without the key). */
  reasons: SealedReasonData[];
  /** Visit type labels by id, as the reasons name them. */
  visitTypes: Record<string, string>;
  maxBytes: number;
  pin: DirectoryPin;
  /** The signed-in member's address, shown by the unlock form. */
  email: string;
}

function field<T>(raw: Record<string, unknown>, key: string, type: "string" | "boolean" | "number"): T {
  const value = raw[key];
  if (typeof value !== type) throw new Error(`practice record data: ${key} is not a ${type}`);
  return value as T;
}

export function readPracticeRecordData(value: unknown): PracticeRecordData {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("practice record data: not an object");
  const raw = value as Record<string, unknown>;
  const lang = field<string>(raw, "lang", "string");
  if (lang !== "fr" && lang !== "en") throw new Error("practice record data: unknown language");
  const holderId = raw["holderId"];
  if (holderId !== null && typeof holderId !== "string") throw new Error("practice record data: holderId");
  return {
    lang,
    practiceId: field(raw, "practiceId", "string"),
    practiceName: field(raw, "practiceName", "string"),
    patientId: field(raw, "patientId", "string"),
    holderId,
    mayReadReasons: field(raw, "mayReadReasons", "boolean"),
    mayReadClinical: field(raw, "mayReadClinical", "boolean"),
    mayWriteClinical: field(raw, "mayWriteClinical", "boolean"),
    mayReadMessages: field(raw, "mayReadMessages", "boolean"),
    maySendMessages: field(raw, "maySendMessages", "boolean"),
    reasons: readReasons(raw["reasons"]),
    visitTypes: readLabels(raw["visitTypes"]),
    maxBytes: field(raw, "maxBytes", "number"),
    pin: readPin(raw["pin"]),
    email: field(raw, "email", "string"),
  };
}

function readReasons(value: unknown): SealedReasonData[] {
  if (!Array.isArray(value)) throw new Error("practice record data: reasons is not a list");
  return value.map((entry: unknown) => {
    if (typeof entry !== "object" || entry === null) throw new Error("practice record data: a reason is not an object");
    const raw = entry as Record<string, unknown>;
    const when = raw["when"] as Record<string, unknown> | null;
    const wraps = raw["wraps"];
    if (when === null || typeof when !== "object" || !Array.isArray(wraps) || !wraps.every((w) => typeof w === "string")) {
      throw new Error("practice record data: a reason is malformed");
    }
    return {
      appointmentId: field(raw, "appointmentId", "string"),
      when: { iso: field(when, "iso", "string"), day: field(when, "day", "string"), time: field(when, "time", "string") },
      itemId: field(raw, "itemId", "string"),
      envelope: field(raw, "envelope", "string"),
      wraps: wraps as string[],
    };
  });
}

function readLabels(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("practice record data: visitTypes is not an object");
  const labels = value as Record<string, unknown>;
  if (!Object.values(labels).every((label) => typeof label === "string")) throw new Error("practice record data: a visit type label is not text");
  return labels as Record<string, string>;
}
