// The page's half of a key directory check: the worker names the API answers it is missing
// (it has no network), the page fetches them, same origin, under /api/v1/key-directory/ only,
// and asks again. The answers stay with the caller: after a KeysChanged, the names the server
// gave beside the keys come from them (the server's claim, never a proof).
import type { DirectoryOutcome } from "../../crypto/protocol";
import { ApiFailure } from "../api/session";

const DIRECTORY = "/api/v1/key-directory/";
/** Each round answers every path the worker named; a check needs a handful at most. */
const MAX_ROUNDS = 8;

export type Answers = Record<string, unknown>;

/** `ask` runs the check in the worker against `answers`, which this fills in. `absentIsNull`:
 * a 404 is an answer (null: no key group), for reading; sealing needs every answer. */
export async function untilProven<T>(
  ask: (answers: Answers) => Promise<DirectoryOutcome<T>>,
  answers: Answers,
  absentIsNull = false,
): Promise<T> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const outcome = await ask(answers);
    if ("proven" in outcome) return outcome.proven;
    for (const path of outcome.need) {
      if (!path.startsWith(DIRECTORY) || path in answers) throw new ApiFailure(0, "directory", undefined, undefined);
      let response: Response;
      try {
        response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
      } catch {
        throw new ApiFailure(0, "network", undefined, undefined);
      }
      if (absentIsNull && response.status === 404) answers[path] = null;
      else if (!response.ok) throw new ApiFailure(response.status, "directory", undefined, undefined);
      else answers[path] = await response.json();
    }
  }
  throw new ApiFailure(0, "directory", undefined, undefined);
}

/** The name the server gave beside a user's keys, if it answered for them in this check. */
export function claimedName(answers: Answers, userId: string): string | null {
  const answer = answers[`${DIRECTORY}users/${userId.toLowerCase()}`];
  if (typeof answer !== "object" || answer === null) return null;
  const name = (answer as { display_name?: unknown }).display_name;
  return typeof name === "string" && name.trim() !== "" ? name : null;
}
