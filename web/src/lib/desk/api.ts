// The desk's calls to the API (typed from its OpenAPI, through the signed-in client with its CSRF
// header). A phone booking's visit type and reason are sealed here, in the crypto worker, for the
// practice's key and, when an account manages the patient, for that account's key: each proven
// by the key directory before anything is sealed or sent.
import type { CryptoClient } from "../../crypto/client";
import type { DirectoryPin, KeysHandle } from "../../crypto/protocol";
import type { components } from "../api/schema";
import { ok, sessionApi } from "../api/session";
import { provenPracticeKey, sealReason, type Booked } from "../booking/api";
import { untilProven, type Answers } from "../keys/directory";

export type DeskPatient = components["schemas"]["PracticePatientOut"];
export type NewPatient = components["schemas"]["PracticePatientIn"];

export async function findPatients(practiceId: string, query: string): Promise<DeskPatient[]> {
  return ok(sessionApi.GET("/api/v1/practices/{practice_id}/patients", { params: { path: { practice_id: practiceId }, query: { query } } }));
}

export async function registerPatient(practiceId: string, patient: NewPatient): Promise<DeskPatient> {
  return ok(sessionApi.POST("/api/v1/practices/{practice_id}/patients", { params: { path: { practice_id: practiceId } }, body: patient }));
}

/** Sets (or, with an empty text, clears) the practice's contact details of a patient, based on
 * the version read: a 412 means someone changed them since. */
export async function editContact(
  practiceId: string,
  patientId: string,
  version: string,
  contact: { phone: string; email: string },
): Promise<DeskPatient> {
  return ok(
    sessionApi.PATCH("/api/v1/practices/{practice_id}/patients/{patient_id}", {
      params: { path: { practice_id: practiceId, patient_id: patientId }, header: { "if-match": `"${version}"` } },
      body: { phone: contact.phone.trim() || null, email: contact.email.trim() || null },
    }),
  );
}

export interface PhoneBooking {
  keys: KeysHandle;
  pin: DirectoryPin;
  practiceId: string;
  practitionerId: string;
  patient: DeskPatient;
  startsAt: string;
  visitTypeId: string;
  durationMinutes: number;
  /** The visit type's reminder policy (docs/crypto.md: one bit the server learns). */
  remindersWanted: boolean;
  reason: string;
  outsideHoursConfirmed: boolean;
}

/** Proves the practice's key (and the holder's), seals, then books for the practice. */
export async function bookByPhone(crypto: CryptoClient, booking: PhoneBooking, answers: Answers): Promise<Booked> {
  const recipients = [await provenPracticeKey(crypto, booking.pin, booking.practiceId, answers)];
  const holder = booking.patient.holder_account_id;
  if (holder !== null) {
    const proven = await untilProven((known) => crypto.call("proveUserKey", { pin: booking.pin, userId: holder, answers: known }), answers);
    recipients.push(proven.binding);
  }
  const sealed = await sealReason(crypto, { keys: booking.keys, visitTypeId: booking.visitTypeId, reason: booking.reason, recipients });
  return ok(
    sessionApi.POST("/api/v1/practices/{practice_id}/appointments", {
      params: { path: { practice_id: booking.practiceId } },
      body: {
        practitioner_id: booking.practitionerId,
        patient_id: booking.patient.patient_id,
        starts_at: booking.startsAt,
        duration_minutes: booking.durationMinutes,
        appointment_id: sealed.appointmentId,
        sealed_reason: sealed.sealedReason,
        outside_hours_confirmed: booking.outsideHoursConfirmed,
        reminders_wanted: booking.remindersWanted,
        source: "practice",
      },
    }),
  );
}
