// The app's one client for signed-in requests: the generated openapi-fetch client, plus the
// CSRF double submit that cookie sessions need (docs/accounts.md): every unsafe request echoes
// the colloque_csrf cookie in X-CSRF-Token. Read at each request, since a login or a password
// change replaces it.
import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema";

export type Problem = components["schemas"]["Problem"];

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
const CSRF_COOKIE = "colloque_csrf";

export function csrfToken(): string | undefined {
  for (const part of document.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

const csrf: Middleware = {
  onRequest({ request }) {
    const token = csrfToken();
    if (!SAFE.has(request.method) && token !== undefined) request.headers.set("X-CSRF-Token", token);
    return request;
  },
};

export const sessionApi = createClient<paths>({ baseUrl: window.location.origin, credentials: "same-origin" });
sessionApi.use(csrf);

/** A refusal of the API, with what the page needs to say why. */
export class ApiFailure extends Error {
  override name = "ApiFailure";
  constructor(
    readonly status: number,
    /** The problem type's last part: `login-failed`, `mfa-required`, `invalid-input`, ... */
    readonly code: string,
    readonly field: string | undefined,
    readonly retryAfter: number | undefined,
    /** The problem's `detail`, for a refusal whose words the page shows next to the field. */
    readonly detail: string | undefined = undefined,
    /** The booking rule not met (a 422 `rule-violation`): `closed`, `absent`, ... */
    readonly rule: string | undefined = undefined,
    /** How many: cancellations and moves to confirm (a 403 `mass-change-unconfirmed`), ... */
    readonly count: number | undefined = undefined,
  ) {
    super(`${status} ${code}`);
  }
}

/** The data of a successful answer, or an ApiFailure (a network failure is status 0). */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw new ApiFailure(0, "network", undefined, undefined);
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  const problem = (typeof error === "object" && error !== null ? error : {}) as Partial<Problem>;
  const code = typeof problem.type === "string" ? (problem.type.split("/").pop() ?? "") : "";
  const field = problem.field ?? problem.errors?.[0]?.field;
  const detail = problem.errors?.[0]?.message ?? problem.detail;
  throw new ApiFailure(response.status, code, field, problem.retry_after, detail, problem.rule, problem.count);
}
