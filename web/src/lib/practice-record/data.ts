// The practice patient page's record data from the server (<script type="application/json">),
// checked before use: who the patient is, and what this member's role may open (the server's
// policy decides; the API refuses the rest anyway).
import type { DirectoryPin } from "../../crypto/protocol";
import type { Lang } from "../i18n";
import { readPin } from "../keys/pin";

export interface PracticeRecordData {
  lang: Lang;
  practiceId: string;
  practiceName: string;
  patientId: string;
  /** The account that holds the patient (null: none), whose key messages are sealed for too. */
  holderId: string | null;
  /** Notes and documents: practitioners only (practice:clinical_record:read and write). */
  mayReadClinical: boolean;
  mayWriteClinical: boolean;
  mayReadMessages: boolean;
  maySendMessages: boolean;
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
    mayReadClinical: field(raw, "mayReadClinical", "boolean"),
    mayWriteClinical: field(raw, "mayWriteClinical", "boolean"),
    mayReadMessages: field(raw, "mayReadMessages", "boolean"),
    maySendMessages: field(raw, "maySendMessages", "boolean"),
    maxBytes: field(raw, "maxBytes", "number"),
    pin: readPin(raw["pin"]),
    email: field(raw, "email", "string"),
  };
}
