// The account page's island; the server sends it only to a signed-in session.
import { mount } from "svelte";

import Account from "./lib/account/Account.svelte";
import { readIsland } from "./lib/account/errors";
import type { RecoveryStatus } from "./lib/account/flows";

/** The recovery code's status, or null when the account has none (made by the CLI). */
function readRecovery(value: unknown): RecoveryStatus | null {
  if (value === null || value === undefined) return null;
  const record = value as Record<string, unknown>;
  const createdAt = record["createdAt"];
  const usedAt = record["usedAt"];
  if (typeof createdAt !== "string" || !(usedAt === null || typeof usedAt === "string")) throw new Error("account data: recovery is not a status");
  return { createdAt, usedAt };
}

const target = document.getElementById("account-island");
if (target !== null) {
  const raw = readIsland("account-island-data");
  const text = (key: string): string => {
    const value = raw[key];
    if (typeof value !== "string") throw new Error(`account data: ${key} is not text`);
    return value;
  };
  const sealed = raw["sealedByPassword"];
  const recovery = raw["recovery"];
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
        recovery: readRecovery(recovery),
        secondFactorNeeded: raw["secondFactorNeeded"] === true,
        next: typeof raw["next"] === "string" ? raw["next"] : null,
      },
    },
  });
}
