// The time off page's island (src/colloque/web/settings_pages.py).
import { mount } from "svelte";

import { readPracticeData } from "./lib/settings/data";
import TimeOff from "./lib/settings/TimeOff.svelte";

const target = document.getElementById("time-off");
const source = document.getElementById("time-off-data");
if (target !== null && source?.textContent) {
  const data = readPracticeData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(TimeOff, { target, props: { data } });
}
