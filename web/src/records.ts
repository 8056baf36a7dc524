// The messages and documents page's island. The crypto worker starts at the unlock step.
import { mount } from "svelte";

import { readRecordData } from "./lib/records/data";
import Record from "./lib/records/Record.svelte";

const target = document.getElementById("record");
const source = document.getElementById("record-data");
if (target !== null && source?.textContent) {
  const data = readRecordData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(Record, { target, props: { data } });
}
