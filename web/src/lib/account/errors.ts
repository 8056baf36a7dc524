// One sentence for whatever an account flow threw: a refusal of the API, a refusal of the
// crypto worker (out of memory during Argon2id among them), or anything else.
import { CryptoFailure } from "../../crypto/client";
import { ApiFailure } from "../api/session";
import { cryptoFailureMessages } from "../crypto-messages";
import type { Lang } from "../i18n";
import { accountMessages, explain } from "./messages";

export function describeFailure(error: unknown, lang: Lang): string {
  if (error instanceof ApiFailure) return explain(accountMessages[lang], error);
  if (error instanceof CryptoFailure) return cryptoFailureMessages[lang][error.kind];
  return accountMessages[lang].failed;
}

/** The island's data from the server: `lang` checked, the rest as the page's reader says. */
export function readIsland(id: string): Record<string, unknown> & { lang: Lang } {
  const source = document.getElementById(id);
  const raw: unknown = JSON.parse(source?.textContent ?? "null");
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error("island data: not an object");
  const record = raw as Record<string, unknown>;
  if (record["lang"] !== "fr" && record["lang"] !== "en") throw new Error("island data: unknown language");
  return record as Record<string, unknown> & { lang: Lang };
}

/** A same-origin path, else the account page (the server checked it too). */
export function samePath(value: unknown): string {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\") ? value : "/account";
}
