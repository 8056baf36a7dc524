// The practice set-up page's island (src/colloque/web/setup_pages.py).
import { mount } from "svelte";

import { readIsland } from "./lib/account/errors";
import NewPractice from "./lib/setup/NewPractice.svelte";

const target = document.getElementById("new-practice");
if (target !== null) {
  const raw = readIsland("new-practice-data");
  const zones = raw["timezones"];
  if (!Array.isArray(zones) || !zones.every((zone) => typeof zone === "string")) throw new Error("set-up data: timezones");
  target.replaceChildren();
  mount(NewPractice, { target, props: { lang: raw.lang, timezones: zones as string[] } });
}
