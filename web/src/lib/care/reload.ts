/** After a change, the server renders the new state and says what happened (?done=). */
export function reloadWith(done: string): void {
  const url = new URL(window.location.href);
  url.searchParams.set("done", done);
  window.location.assign(url.pathname + url.search);
}
