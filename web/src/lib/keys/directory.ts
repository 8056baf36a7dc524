// The page's half of a key directory check. The crypto worker has no network (its CSP), so it
// names the API answers it still needs; the page fetches them (same origin, key directory paths
// only) and asks again. A 404 is handed over as null (a practice without a key group); the
// answers are untrusted input to the worker either way.
import type { DirectoryOutcome } from "../../crypto/protocol";
import { ApiFailure } from "../api/session";

const DIRECTORY = "/api/v1/key-directory/";
/** Each round answers every path the worker named; a check needs a handful at most. */
const MAX_ROUNDS = 8;

export async function withDirectory<T>(ask: (answers: Record<string, unknown>) => Promise<DirectoryOutcome<T>>): Promise<T> {
  const answers: Record<string, unknown> = {};
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const outcome = await ask(answers);
    if ("proven" in outcome) return outcome.proven;
    for (const path of outcome.need) {
      if (!path.startsWith(DIRECTORY) || path in answers) throw new ApiFailure(0, "directory", undefined, undefined);
      const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.status === 404) answers[path] = null;
      else if (response.ok) answers[path] = await response.json();
      else throw new ApiFailure(response.status, "directory", undefined, undefined);
    }
  }
  throw new ApiFailure(0, "directory", undefined, undefined);
}
