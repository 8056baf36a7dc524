// The booking page's calls to the API (typed from its OpenAPI) and the key directory's fetch
// loop: the worker names the answers it needs, the page fetches them and asks again.
import type { CryptoClient } from "../../crypto/client";
import type { DirectoryPin, KeyBinding, KeysHandle, UnlockedKeys } from "../../crypto/protocol";
import { api } from "../api/client";
import { sessionApi } from "../api/session";
import { fromBase64Url, toBase64Url } from "../base64url";
import type { components } from "../api/schema";

export type Patient = components["schemas"]["PatientOut"];

/** A request the API refused; `status` decides what the page says. */
export class ApiFailure extends Error {
  constructor(readonly status: number) {
    super(`the API answered ${status}`);
  }
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

/** Logs in again (a cookie session) to unlock this account's keys in the worker: the keys are
 * sealed under the password, and nothing secret survives a reload. The password goes only to
 * the worker; the server gets the derived authentication key. */
export async function unlock(crypto: CryptoClient, email: string, password: string): Promise<UnlockedKeys> {
  const pre = await api.POST("/api/v1/auth/prelogin", { body: { email } });
  if (pre.data === undefined) throw new ApiFailure(pre.response.status);
  const derived = await crypto.call("deriveLoginKeys", { password, kdfParams: fromBase64Url(pre.data.kdf_params) });
  try {
    const login = await sessionApi.POST("/api/v1/auth/login", {
      body: { email, auth_key: toBase64Url(derived.authKey), session: "cookie" },
    });
    if (login.data === undefined) throw new ApiFailure(login.response.status);
    return await crypto.call("unlockWithKek", {
      kek: derived.kek,
      userId: login.data.account_id,
      sealedByPassword: fromBase64Url(login.data.keys.sealed_by_password),
    });
  } finally {
    await crypto.call("forget", { handle: derived.kek });
  }
}

const DIRECTORY = "/api/v1/key-directory/";
/** Each round answers every path the worker named; a check needs a handful at most. */
const MAX_ROUNDS = 8;

/** The practice group's key, proven by the worker against the pinned log and this browser's
 * remembered state. Only same-origin key directory paths are fetched for it. */
export async function provenPracticeKey(crypto: CryptoClient, pin: DirectoryPin, practiceId: string): Promise<KeyBinding> {
  const answers: Record<string, unknown> = {};
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const outcome = await crypto.call("provePracticeKey", { pin, practiceId, answers });
    if ("proven" in outcome) return outcome.proven.binding;
    for (const path of outcome.need) {
      if (!path.startsWith(DIRECTORY) || path in answers) throw new ApiFailure(0);
      const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new ApiFailure(response.status);
      answers[path] = await response.json();
    }
  }
  throw new ApiFailure(0);
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
  const { data, response } = await sessionApi.POST("/api/v1/appointments", {
    body: {
      practice_id: booking.practiceId,
      practitioner_id: booking.practitionerId,
      patient_id: booking.patientId,
      starts_at: booking.startsAt,
      duration_minutes: booking.durationMinutes,
      reminders_wanted: true,
      appointment_id: appointmentId,
      sealed_reason: { envelope: toBase64Url(sealed.envelope), wraps: sealed.wraps.map(toBase64Url) },
    },
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
