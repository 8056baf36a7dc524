// The held messages page's island (src/colloque/web/outbox_page.py): mounts lib/outbox/Outbox.svelte.
import { mount } from "svelte";

import { readOutboxData } from "./lib/outbox/data";
import Outbox from "./lib/outbox/Outbox.svelte";

const target = document.getElementById("outbox");
const source = document.getElementById("outbox-data");
if (target !== null && source?.textContent) {
  const data = readOutboxData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(Outbox, { target, props: { data } });
}
