// The API's refusals (problem+json, docs/api.md) as something a patient can act on. Anything
// unexpected becomes "failed": the page never shows a raw error.
import type { Refusal } from "./messages";

const RULES: Record<string, Refusal> = {
  cancellation_cutoff: "cutoff",
  not_booked: "notChangeable",
  in_the_past: "notChangeable",
  anti_hoarding: "hoarding",
  too_soon: "tooSoon",
  too_far: "tooSoon",
  not_aligned: "tooSoon",
  closed: "tooSoon",
  absent: "tooSoon",
  day_full: "tooSoon",
  visit_type_not_offered: "tooSoon",
};

export function refusalOf(status: number, body: unknown): Refusal {
  if (status === 401) return "signedOut";
  if (status === 404) return "notFound";
  if (status === 409) return "taken";
  if (status === 422) {
    const rule =
      typeof body === "object" && body !== null && "rule" in body ? (body as { rule: unknown }).rule : undefined;
    return typeof rule === "string" ? (RULES[rule] ?? "invalid") : "invalid";
  }
  return "failed";
}
