// Days and weeks as the practice counts them. Weeks are plain local dates (YYYY-MM-DD, a
// Monday), as the API's `from` takes them; slots are grouped by their local day in the
// practice's time zone, whatever the browser's own zone.
import type { Lang } from "./i18n";

const DAY_MS = 86_400_000;

function noonUtc(day: string): Date {
  return new Date(`${day}T12:00:00Z`);
}

export function addDays(day: string, count: number): string {
  return new Date(noonUtc(day).getTime() + count * DAY_MS).toISOString().slice(0, 10);
}

export function localDay(instant: string, timeZone: string): string {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(new Date(instant));
}

export interface Day {
  day: string;
  label: string;
  slots: { instant: string; time: string }[];
}

export function weekDays(week: string, slots: string[], timeZone: string, lang: Lang): Day[] {
  const dayLabel = new Intl.DateTimeFormat(lang, {
    timeZone: "UTC",
    weekday: "long",
    day: "numeric",
    month: "long",
  });
  const timeLabel = new Intl.DateTimeFormat(lang, {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const days: Day[] = [];
  for (let n = 0; n < 7; n += 1) {
    const day = addDays(week, n);
    days.push({ day, label: dayLabel.format(noonUtc(day)), slots: [] });
  }
  for (const instant of slots) {
    const match = days.find((d) => d.day === localDay(instant, timeZone));
    match?.slots.push({ instant, time: timeLabel.format(new Date(instant)) });
  }
  return days;
}

export function weekLabel(week: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang, { timeZone: "UTC", dateStyle: "long" }).format(noonUtc(week));
}

/** The zone's offset from UTC at `utcMs`, in milliseconds. */
function offsetAt(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const part = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second")) - utcMs;
}

/** The instant (ISO, UTC) of a wall time typed as `YYYY-MM-DDTHH:mm` in the practice's zone,
 * whatever the browser's own zone. A wall time a DST change skips lands after the gap; one it
 * repeats, on its first occurrence. */
export function instantOfWallTime(wall: string, timeZone: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(wall);
  if (match === null) throw new RangeError("a wall time is YYYY-MM-DDTHH:mm");
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  const first = asUtc - offsetAt(asUtc, timeZone);
  return new Date(asUtc - offsetAt(first, timeZone)).toISOString();
}

/** The wall time (`YYYY-MM-DDTHH:mm`, for a datetime-local field) of an instant in the zone. */
export function wallTimeOf(instant: string, timeZone: string): string {
  const utcMs = new Date(instant).getTime();
  return new Date(utcMs + offsetAt(utcMs, timeZone)).toISOString().slice(0, 16);
}
