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
