// The booking page's calls to the API (typed from its OpenAPI, through the signed-in client with
// its CSRF header) and its key directory check: the worker names the answers it needs, the page
// fetches them and asks again (../keys/directory.ts).
import type { CryptoClient } from "../../crypto/client";
import type { DirectoryPin, KeyBinding, KeysHandle } from "../../crypto/protocol";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { ok, sessionApi } from "../api/session";
import { toBase64Url } from "../base64url";
import { untilProven, type Answers } from "../keys/directory";

export type Patient = components["schemas"]["PatientOut"];

export async function myPatients(): Promise<Patient[]> {
  return ok(sessionApi.GET("/api/v1/me/patients"));
}

/** The practice group's key, proven by the worker against the pinned log and this browser's
 * remembered state. `answers` keeps what was fetched, for the names beside a KeysChanged. */
export async function provenPracticeKey(crypto: CryptoClient, pin: DirectoryPin, practiceId: string, answers: Answers): Promise<KeyBinding> {
  const proven = await untilProven((known) => crypto.call("provePracticeKey", { pin, practiceId, answers: known }), answers);
  return proven.binding;
}

export interface Booking {
  keys: KeysHandle;
  ownKey: KeyBinding;
  practiceId: string;
  practitionerId: string;
  patientId: string;
  startsAt: string;
  visitTypeId: string;
  durationMinutes: number;
  /** The visit type's reminder policy (docs/crypto.md: one bit the server learns). */
  remindersWanted: boolean;
  reason: string;
  pin: DirectoryPin;
}

export type Booked = components["schemas"]["AppointmentOut"];

export type SealedReasonIn = components["schemas"]["SealedReasonIn"];

/** What a booking sends of its reason: the appointment id it was sealed under, and the sealed
 * visit type and reason. */
export interface SealedBooking {
  appointmentId: string;
  sealedReason: SealedReasonIn;
}

/** Seals the visit type and reason for `recipients` (each key proven by the caller), signed by
 * `keys`, under an appointment id drawn here (docs/crypto.md 5.11), or the one given: a waitlist
 * offer's held appointment already has its id. The patient's booking and the desk's share it. */
export async function sealReason(
  crypto: CryptoClient,
  reason: { keys: KeysHandle; visitTypeId: string; reason: string; recipients: KeyBinding[]; appointmentId?: string },
): Promise<SealedBooking> {
  const appointmentId = reason.appointmentId ?? globalThis.crypto.randomUUID();
  const sealed = await crypto.call("sealVisitReason", {
    keys: reason.keys,
    itemId: globalThis.crypto.randomUUID(),
    appointmentId,
    visitTypeId: reason.visitTypeId,
    reason: reason.reason,
    recipients: reason.recipients,
  });
  return { appointmentId, sealedReason: { envelope: toBase64Url(sealed.envelope), wraps: sealed.wraps.map(toBase64Url) } };
}

/** Seals the visit type and reason for the holder (this account) and the practice's proven key;
 * the server gets time, duration, ids. Nothing is sealed, or sent, before the practice's key is
 * proven (a KeysChanged stops here). */
export async function book(crypto: CryptoClient, booking: Booking, answers: Answers): Promise<Booked> {
  const practiceKey = await provenPracticeKey(crypto, booking.pin, booking.practiceId, answers);
  const sealed = await sealReason(crypto, {
    keys: booking.keys,
    visitTypeId: booking.visitTypeId,
    reason: booking.reason,
    recipients: [booking.ownKey, practiceKey],
  });
  return ok(
    sessionApi.POST("/api/v1/appointments", {
      body: {
        practice_id: booking.practiceId,
        practitioner_id: booking.practitionerId,
        patient_id: booking.patientId,
        starts_at: booking.startsAt,
        duration_minutes: booking.durationMinutes,
        reminders_wanted: booking.remindersWanted,
        appointment_id: sealed.appointmentId,
        sealed_reason: sealed.sealedReason,
      },
    }),
  );
}

/** Free slots of the same duration (the visit type is not sent), from the day of `from`, two weeks. */
export async function freshSlots(practiceId: string, practitionerId: string, durationMinutes: number, from: string): Promise<string[]> {
  const { data } = await api.GET("/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/slots", {
    params: {
      path: { practice_id: practiceId, practitioner_id: practitionerId },
      query: { duration_minutes: durationMinutes, from, days: 14 },
    },
  });
  return (data ?? []).map((slot) => slot.starts_at);
}
