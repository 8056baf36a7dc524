// The booking page's calls to the API (typed from its OpenAPI) and the key directory's fetch
// loop: the worker names the answers it needs, the page fetches them and asks again.
import type { CryptoClient } from "../../crypto/client";
import type { DirectoryPin, KeyBinding, KeysHandle } from "../../crypto/protocol";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { withDirectory } from "../keys/directory";

export type Patient = components["schemas"]["PatientOut"];

/** A request the API refused; `status` decides what the page says. */
export class ApiFailure extends Error {
  constructor(readonly status: number) {
    super(`the API answered ${status}`);
  }
}

/** Unsafe requests of a cookie session echo the CSRF cookie (readable by design) in a header. */
function csrfHeaders(): Record<string, string> {
  const cookie = document.cookie.split("; ").find((part) => part.startsWith("colloque_csrf="));
  return cookie === undefined ? {} : { "X-CSRF-Token": decodeURIComponent(cookie.slice("colloque_csrf=".length)) };
}

// The API's binary values are unpadded base64url (colloque.client.encoding).
function b64(data: Uint8Array): string {
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The signed-in account's id, or null without a session. */
export async function signedInAccount(): Promise<string | null> {
  const { data, response } = await api.GET("/api/v1/me");
  if (response.status === 401) return null;
  if (data === undefined) throw new ApiFailure(response.status);
  return data.account_id;
}

export async function myPatients(): Promise<Patient[]> {
  const { data, response } = await api.GET("/api/v1/me/patients");
  if (data === undefined) throw new ApiFailure(response.status);
  return data;
}

/** The practice group's key, proven by the worker against the pinned log and this browser's
 * remembered state. */
export async function provenPracticeKey(crypto: CryptoClient, pin: DirectoryPin, practiceId: string): Promise<KeyBinding> {
  const proven = await withDirectory((answers) => crypto.call("provePracticeKey", { pin, practiceId, answers }));
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
  reason: string;
  pin: DirectoryPin;
}

export type Booked = components["schemas"]["AppointmentOut"];

/** Seals the visit type and reason for the holder (this account) and the practice's proven key,
 * under an appointment id drawn here (docs/crypto.md 5.11); the server gets time, duration, ids. */
export async function book(crypto: CryptoClient, booking: Booking): Promise<Booked> {
  const practiceKey = await provenPracticeKey(crypto, booking.pin, booking.practiceId);
  const appointmentId = globalThis.crypto.randomUUID();
  const sealed = await crypto.call("sealVisitReason", {
    keys: booking.keys,
    itemId: globalThis.crypto.randomUUID(),
    appointmentId,
    visitTypeId: booking.visitTypeId,
    reason: booking.reason,
    recipients: [booking.ownKey, practiceKey],
  });
  const { data, response } = await api.POST("/api/v1/appointments", {
    body: {
      practice_id: booking.practiceId,
      practitioner_id: booking.practitionerId,
      patient_id: booking.patientId,
      starts_at: booking.startsAt,
      duration_minutes: booking.durationMinutes,
      reminders_wanted: true,
      appointment_id: appointmentId,
      sealed_reason: { envelope: b64(sealed.envelope), wraps: sealed.wraps.map(b64) },
    },
    headers: csrfHeaders(),
  });
  if (data === undefined) throw new ApiFailure(response.status);
  return data;
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
