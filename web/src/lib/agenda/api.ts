// The agenda's calls: the window read with its ETag (a poll answers 304 while nothing changed),
// every change sent with the appointment's version (If-Match: 412 when someone changed it since),
// and the sealed reasons opened in the crypto worker in one batch, the practice's group keys
// opened once there.
import type { CryptoClient } from "../../crypto/client";
import type { AgendaReasonItem, OpenedAgendaReason, UnlockedKeys } from "../../crypto/protocol";
import { reauthenticate } from "../account/flows";
import { ApiFailure, ok, sessionApi } from "../api/session";
import type { components } from "../api/schema";
import { fromBase64Url } from "../base64url";
import { untilProven } from "../keys/directory";
import type { AgendaData } from "./data";
import type { Day } from "./days";
import type { CancelReason } from "./messages";

export type Appointment = components["schemas"]["AppointmentOut"];

export interface Window {
  etag: string;
  appointments: Appointment[];
}

/** The window [from, until] (local days of the practice), or null when `etag` is still current. */
export async function readWindow(practiceId: string, from: Day, until: Day, etag: string | null): Promise<Window | null> {
  let result;
  try {
    result = await sessionApi.GET("/api/v1/practices/{practice_id}/agenda", {
      params: { path: { practice_id: practiceId }, query: { from, until }, header: etag === null ? {} : { "if-none-match": etag } },
    });
  } catch {
    throw new ApiFailure(0, "network", undefined, undefined);
  }
  if (result.response.status === 304) return null;
  const appointments = await ok(Promise.resolve(result));
  return { etag: result.response.headers.get("ETag") ?? "", appointments };
}

export type Change = { kind: "move"; startsAt: string; practitionerId: string; outsideHours: boolean } | { kind: "cancel"; reason: CancelReason } | { kind: "mark"; outcome: "done" | "no_show" };

/** One change, based on the version the screen shows. */
export async function change(practiceId: string, appointment: Appointment, what: Change): Promise<Appointment> {
  const path = { practice_id: practiceId, appointment_id: appointment.appointment_id };
  const header = { "if-match": `"${appointment.version}"` };
  if (what.kind === "move") {
    return ok(sessionApi.POST("/api/v1/practices/{practice_id}/appointments/{appointment_id}/reschedule", { params: { path, header }, body: { starts_at: what.startsAt, practitioner_id: what.practitionerId, outside_hours_confirmed: what.outsideHours } }));
  }
  if (what.kind === "cancel") {
    return ok(sessionApi.POST("/api/v1/practices/{practice_id}/appointments/{appointment_id}/cancel", { params: { path, header }, body: { reason: what.reason } }));
  }
  return ok(sessionApi.POST("/api/v1/practices/{practice_id}/appointments/{appointment_id}/mark", { params: { path, header }, body: { outcome: what.outcome } }));
}

/** What a change answers when it was not made: why, in words, or that the member must first
 * confirm this many cancellations and moves by hand (a 403 `mass-change-unconfirmed`). */
export type Refusal = string | { confirm: number };

/** Confirms the member's password (and second factor) in this session: the next change goes
 * through (docs/accounts.md, mass changes). The same request as the account page's. */
export async function confirmChanges(email: string, password: string, totp: string): Promise<void> {
  await reauthenticate(email, password, totp === "" ? undefined : totp);
}

/** The appointment as it is now (after a refused change). */
export async function reread(practiceId: string, appointmentId: string): Promise<Appointment> {
  return ok(sessionApi.GET("/api/v1/practices/{practice_id}/appointments/{appointment_id}", { params: { path: { practice_id: practiceId, appointment_id: appointmentId } } }));
}

/** Each call is a measure in the page's performance timeline: bench/web_agenda.py times the
 * worker's part alone with it. */
async function measured<T>(name: string, call: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await call();
  } finally {
    performance.measure(name, { start, end: performance.now() });
  }
}

/** Opens the reasons of `appointments` not opened yet, in one call to the worker. */
export async function openReasons(crypto: CryptoClient, data: AgendaData, keys: UnlockedKeys, appointments: Appointment[]): Promise<OpenedAgendaReason[]> {
  const items: AgendaReasonItem[] = [];
  for (const appointment of appointments) {
    const sealed = appointment.sealed_reason;
    if (sealed === null) continue;
    items.push({
      appointmentId: appointment.appointment_id,
      itemId: sealed.item_id,
      envelope: fromBase64Url(sealed.envelope),
      wraps: sealed.wraps.map((w) => fromBase64Url(w.wrap)),
      holderId: appointment.patient.holder_account_id,
    });
  }
  if (items.length === 0) return [];
  const group = await ok(sessionApi.GET("/api/v1/practices/{practice_id}/key-group", { params: { path: { practice_id: data.practiceId } } }));
  const groupWraps = group.wraps.map((w) => fromBase64Url(w.wrap));
  return untilProven(
    (answers) => measured("colloque:openAgendaReasons", () => crypto.call("openAgendaReasons", { pin: data.pin, keys: keys.keys, practiceId: data.practiceId, groupWraps, items, answers })),
    {},
    // An author whose keys the server will not show this member (404) is not one of the
    // practice's nor the patient's holder: that item is refused, the others still open.
    true,
  );
}
