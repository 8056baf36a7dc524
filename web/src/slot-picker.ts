// The practitioner page's island: the server-rendered slots stay in place until the picker has
// its data, so the page works the same with JavaScript off or failing.
import { mount } from "svelte";

import SlotPicker from "./lib/SlotPicker.svelte";
import { readSlotPickerData } from "./lib/island";

const target = document.getElementById("slot-picker");
const source = document.getElementById("slot-picker-data");
if (target !== null && source?.textContent) {
  const data = readSlotPickerData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(SlotPicker, { target, props: { data } });
}
