// The log-in page's island.
import { mount } from "svelte";

import Login from "./lib/account/Login.svelte";
import { readIsland, samePath } from "./lib/account/errors";

const target = document.getElementById("account-island");
if (target !== null) {
  const data = readIsland("account-island-data");
  target.replaceChildren();
  mount(Login, { target, props: { lang: data.lang, next: samePath(data["next"]) } });
}
