// A cookie session's unsafe requests echo its CSRF token (docs/accounts.md); the server sets it
// in a cookie the page may read.
const CSRF_COOKIE = "colloque_csrf";

export function csrfHeaders(): Record<string, string> {
  for (const part of document.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === CSRF_COOKIE) return { "X-CSRF-Token": decodeURIComponent(value.join("=")) };
  }
  return {};
}

/** After a change, the server renders the new state and says what happened (?done=). */
export function reloadWith(done: string): void {
  const url = new URL(window.location.href);
  url.searchParams.set("done", done);
  window.location.assign(url.pathname + url.search);
}
