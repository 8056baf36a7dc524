// The account page's island; the server sends it only to a signed-in session.
import { mount } from "svelte";

import Account from "./lib/account/Account.svelte";
import { readIsland } from "./lib/account/errors";

const target = document.getElementById("account-island");
if (target !== null) {
  const raw = readIsland("account-island-data");
  const text = (key: string): string => {
    const value = raw[key];
    if (typeof value !== "string") throw new Error(`account data: ${key} is not text`);
    return value;
  };
  const sealed = raw["sealedByPassword"];
  target.replaceChildren();
  mount(Account, {
    target,
    props: {
      data: {
        lang: raw.lang,
        accountId: text("accountId"),
        email: text("email"),
        displayName: text("displayName"),
        totpEnabled: raw["totpEnabled"] === true,
        sealedByPassword: typeof sealed === "string" ? sealed : null,
      },
    },
  });
}
