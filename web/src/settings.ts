// The practice settings page's island (src/colloque/web/settings_pages.py).
import { mount } from "svelte";

import { readSettingsData } from "./lib/settings/data";
import Settings from "./lib/settings/Settings.svelte";

const target = document.getElementById("settings");
const source = document.getElementById("settings-data");
if (target !== null && source?.textContent) {
  const data = readSettingsData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(Settings, { target, props: { data } });
}
