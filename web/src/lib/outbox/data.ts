// The held messages page's initial data, read from the page's <script type="application/json">
// and checked, as the other islands' data are.
import type { Lang } from "../i18n";

export interface OutboxData {
  lang: Lang;
  practiceId: string;
}

export function readOutboxData(value: unknown): OutboxData {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("outbox data: not an object");
  const raw = value as Record<string, unknown>;
  const lang = raw["lang"];
  const practiceId = raw["practiceId"];
  if (lang !== "fr" && lang !== "en") throw new Error("outbox data: unknown language");
  if (typeof practiceId !== "string") throw new Error("outbox data: practiceId is not text");
  return { lang, practiceId };
}
