// What the agenda shows of an appointment, in words: its times on the practice's clock, the
// patient, the visit type and reason once opened (or why not), its status and source, and the
// full accessible name of its button. Pure: the components only lay these out.
import type { OpenedAgendaReason } from "../../crypto/protocol";
import type { Appointment } from "./api";
import type { AgendaData } from "./data";
import { wallOf, type Day } from "./days";
import type { AgendaMessages } from "./messages";

/** The reason's state on this screen. */
export type ReasonState = { kind: "none" } | { kind: "sealed" } | { kind: "locked" } | { kind: "opening" } | { kind: "opened"; visitTypeId: string; reason: string } | { kind: "refused" };

export interface Shown {
  appointment: Appointment;
  day: Day;
  startMinutes: number;
  endMinutes: number;
  time: string;
  patient: string;
  practitioner: string;
  visitType: string;
  reasonText: string;
  status: string;
  source: string;
  /** The full accessible name of its button. */
  name: string;
  active: boolean;
}

export function reasonState(data: AgendaData, appointment: Appointment, unlocked: boolean, opened: OpenedAgendaReason | undefined): ReasonState {
  if (!data.may.readReasons) return { kind: "sealed" };
  if (appointment.sealed_reason === null) return { kind: "none" };
  if (!unlocked) return { kind: "locked" };
  if (opened === undefined) return { kind: "opening" };
  if ("refused" in opened) return { kind: "refused" };
  return { kind: "opened", visitTypeId: opened.visitTypeId, reason: opened.reason };
}

export function show(data: AgendaData, m: AgendaMessages, appointment: Appointment, reason: ReasonState): Shown {
  const start = wallOf(appointment.starts_at);
  const end = wallOf(appointment.ends_at);
  const practitioner = data.practitioners.find((p) => p.id === appointment.practitioner_id);
  let visitType = m.visitTypeSealed;
  let reasonText = "";
  switch (reason.kind) {
    case "none":
      visitType = m.legendNoReason;
      reasonText = m.legendNoReason;
      break;
    case "sealed":
      reasonText = m.sealed;
      break;
    case "locked":
      reasonText = m.locked;
      break;
    case "opening":
      reasonText = m.opening;
      break;
    case "refused":
      reasonText = m.refused;
      break;
    case "opened":
      visitType = practitioner?.visitTypes.find((v) => v.id === reason.visitTypeId)?.label ?? m.unknownVisitType;
      reasonText = reason.reason;
      break;
  }
  const patient = `${appointment.patient.first_name} ${appointment.patient.last_name}`.trim();
  const time = `${start.time}–${end.time}`;
  const status = m.status[appointment.status];
  const source = m.source[appointment.source];
  const practitionerName = practitioner?.name ?? "";
  const active = !appointment.status.startsWith("cancelled");
  // An appointment running past midnight is drawn to the end of its first day.
  const endMinutes = end.day === start.day ? end.minutes : 24 * 60;
  return {
    appointment,
    day: start.day,
    startMinutes: start.minutes,
    endMinutes,
    time,
    patient,
    practitioner: practitionerName,
    visitType,
    reasonText,
    status,
    source,
    name: m.appointmentName({ time, patient, visitType, status, source, practitioner: practitionerName }),
    active,
  };
}
