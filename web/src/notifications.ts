// "Notifications": the "check a reference" box answers in place (the list is the server's, and
// the box works without JavaScript as a GET form that the server answers).
import { mount } from "svelte";

import ReferenceCheck from "./lib/notifications/ReferenceCheck.svelte";

const source = document.getElementById("notifications-data");
const target = document.getElementById("reference-check");
if (source?.textContent && target !== null) {
  const raw: unknown = JSON.parse(source.textContent);
  const lang = typeof raw === "object" && raw !== null && "lang" in raw && raw.lang === "en" ? "en" : "fr";
  const input = target.querySelector("input");
  const reference = input?.value ?? "";
  const initial = document.getElementById("check-result")?.textContent.trim() ?? "";
  target.replaceChildren();
  mount(ReferenceCheck, { target, props: { lang, reference, initial } });
}
