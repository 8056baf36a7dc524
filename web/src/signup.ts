// The sign-up page's island (it alone, with the account page, carries the password estimator).
import { mount } from "svelte";

import Signup from "./lib/account/Signup.svelte";
import { readIsland, samePath } from "./lib/account/errors";

const target = document.getElementById("account-island");
if (target !== null) {
  const data = readIsland("account-island-data");
  target.replaceChildren();
  mount(Signup, { target, props: { lang: data.lang, next: samePath(data["next"]) } });
}
