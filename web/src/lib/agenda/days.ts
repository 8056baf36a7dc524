// Local days and wall times of the practice, as plain values. The API gives every agenda instant
// with the practice's offset at that instant ("2027-03-28T09:00:00+02:00"), so the wall time on
// the practice's clock is read from the text itself, DST included, whatever the browser's own
// zone. Days are "YYYY-MM-DD" strings, stepped in UTC so that no local DST shift moves them.

export type Day = string;

function parts(day: Day): [number, number, number] {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return [y, m, d];
}

function fromUtc(date: Date): Day {
  return date.toISOString().slice(0, 10);
}

export function addDays(day: Day, count: number): Day {
  const [y, m, d] = parts(day);
  return fromUtc(new Date(Date.UTC(y, m - 1, d + count)));
}

/** 0 = Monday ... 6 = Sunday. */
export function weekday(day: Day): number {
  const [y, m, d] = parts(day);
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

export function mondayOf(day: Day): Day {
  return addDays(day, -weekday(day));
}

export function daysFrom(first: Day, count: number): Day[] {
  return Array.from({ length: count }, (_, i) => addDays(first, i));
}

/** The practice's wall clock reading of an instant the API gave with the practice's offset. */
export function wallOf(instant: string): { day: Day; minutes: number; time: string } {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})/.exec(instant);
  if (match === null) throw new RangeError("not an ISO instant");
  const [, day, hours, minutes] = match as unknown as [string, string, string, string];
  return { day, minutes: Number(hours) * 60 + Number(minutes), time: `${hours}:${minutes}` };
}

/** The offset (minutes east of UTC) of `zone` at the UTC instant `ms`. */
function offsetAt(zone: string, ms: number): number {
  const fields = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (type: string): number => Number(fields.find((f) => f.type === type)?.value ?? "0");
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((asUtc - ms) / 60_000);
}

/** Skipped: the instant of the jump, by bisection to the minute between an instant with the
 * offset before it (`before`) and one with the offset after it (`after`). */
function jumpBetween(zone: string, before: number, after: number): number {
  let lo = before;
  let hi = after;
  const first = offsetAt(zone, lo);
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
    if (offsetAt(zone, mid) === first) lo = mid;
    else hi = mid;
  }
  return hi;
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}

/** The instant a wall time of `day` in `zone` stands for, with its offset: the first instant the
 * clock reads it (a time repeated by a fall-back: its first occurrence); a time skipped by a
 * spring-forward: the instant of the jump, as the server's rule 0 (docs/scheduling.md). */
export function instantOf(day: Day, minutes: number, zone: string): string {
  const [y, m, d] = parts(day);
  const wall = Date.UTC(y, m - 1, d, 0, minutes);
  // The two offsets around it: the earlier one first, for the first occurrence.
  const candidates = [offsetAt(zone, wall - 36 * 3_600_000), offsetAt(zone, wall + 36 * 3_600_000)].sort((a, b) => b - a);
  let chosen: number | null = null;
  for (const offset of candidates) {
    const ms = wall - offset * 60_000;
    if (offsetAt(zone, ms) === offset) {
      chosen = ms;
      break;
    }
  }
  const instant = chosen ?? jumpBetween(zone, wall - Math.max(...candidates) * 60_000, wall - Math.min(...candidates) * 60_000);
  const offset = offsetAt(zone, instant);
  const local = new Date(instant + offset * 60_000);
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `${fromUtc(local)}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** "09:30" -> 570, or null. */
export function minutesOf(time: string): number | null {
  const match = /^(\d{2}):(\d{2})$/.exec(time);
  if (match === null) return null;
  const value = Number(match[1]) * 60 + Number(match[2]);
  return value < 24 * 60 ? value : null;
}

/** An instant (any offset) as the practice's clock reads it, with the practice's offset. */
export function localIso(instant: string, zone: string): string {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) throw new RangeError("not an ISO instant");
  const offset = offsetAt(zone, ms);
  const local = new Date(ms + offset * 60_000);
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `${fromUtc(local)}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** "lundi 2 mars 2026" / "Monday, 2 March 2026": a day as words, in the page's language. */
export function dayWords(day: Day, lang: string, short = false): string {
  const [y, m, d] = parts(day);
  const options: Intl.DateTimeFormatOptions = short
    ? { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }
    : { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" };
  return new Intl.DateTimeFormat(lang === "fr" ? "fr-FR" : "en-GB", options).format(new Date(Date.UTC(y, m - 1, d)));
}
