// The practitioner page's island: the server-rendered slots stay in place until the picker has
// its data, so the page works the same with JavaScript off or failing. The waitlist form mounts
// below them.
import { mount } from "svelte";

import SlotPicker from "./lib/SlotPicker.svelte";
import { readSlotPickerData } from "./lib/island";
import JoinWaitlist from "./lib/waitlist/JoinWaitlist.svelte";

const target = document.getElementById("slot-picker");
const source = document.getElementById("slot-picker-data");
if (target !== null && source?.textContent) {
  const data = readSlotPickerData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(SlotPicker, { target, props: { data } });
  // No time that suits: the waitlist, under the slots.
  const join = document.getElementById("waitlist-join");
  if (join !== null) {
    join.replaceChildren();
    mount(JoinWaitlist, { target: join, props: { data } });
  }
}
