// The desk's phone booking island. The crypto worker starts at the unlock step.
import { mount } from "svelte";

import { readDeskData } from "./lib/desk/data";
import DeskBooking from "./lib/desk/DeskBooking.svelte";

const target = document.getElementById("desk");
const source = document.getElementById("desk-data");
if (target !== null && source?.textContent) {
  const data = readDeskData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(DeskBooking, { target, props: { data } });
}
