// Which booked appointments a time off covers, from the agenda's answer. Every instant of the
// agenda API carries the practice's UTC offset at that instant, so its first 16 characters are the
// practice's wall clock ("2027-01-04T09:00"): no time zone arithmetic in the browser.
import { minutesOfTime } from "./minutes";

export interface TimeOffWindow {
  firstDay: string;
  lastDay: string;
  /** Both or neither: without them, whole days. */
  startMinute: number | null;
  endMinute: number | null;
}

export interface Booked {
  starts_at: string;
  ends_at: string;
  status: string;
}

/** Still in the agenda: a booked appointment, or freed time held for someone on the waitlist. */
const OCCUPYING = new Set(["booked", "held"]);

export function covers(window: TimeOffWindow, appointment: Booked): boolean {
  if (!OCCUPYING.has(appointment.status)) return false;
  const day = appointment.starts_at.slice(0, 10);
  if (day < window.firstDay || day > window.lastDay) return false;
  if (window.startMinute === null || window.endMinute === null) return true;
  const start = minutesOfTime(appointment.starts_at.slice(11, 16)) ?? 0;
  const endDay = appointment.ends_at.slice(0, 10);
  const end = endDay > day ? 24 * 60 : (minutesOfTime(appointment.ends_at.slice(11, 16)) ?? 0);
  return start < window.endMinute && end > window.startMinute;
}

/** The agenda API answers at most 31 days at a time: the window in pieces it accepts. */
export function agendaPieces(firstDay: string, lastDay: string): [string, string][] {
  const pieces: [string, string][] = [];
  let start = new Date(`${firstDay}T00:00:00Z`);
  const last = new Date(`${lastDay}T00:00:00Z`);
  while (start <= last) {
    const end = new Date(Math.min(start.getTime() + 30 * 86_400_000, last.getTime()));
    pieces.push([start.toISOString().slice(0, 10), end.toISOString().slice(0, 10)]);
    start = new Date(end.getTime() + 86_400_000);
  }
  return pieces;
}
