// The members page's data from the server (<script type="application/json">), checked before use.
import type { DirectoryPin } from "../../crypto/protocol";
import type { Lang } from "../i18n";
import { readPin } from "../keys/pin";

export interface MembersData {
  lang: Lang;
  practiceId: string;
  /** The signed-in member's account id. */
  me: string;
  /** Account id -> the name the account gave itself (the server's word). */
  names: Record<string, string>;
  practitioners: { id: string; name: string }[];
  /** An admin: invites, removes, shares and rotates the practice key. */
  manage: boolean;
  pin: DirectoryPin;
  email: string;
}

type Json = Record<string, unknown>;

function record(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`members data: ${what} is not an object`);
  return value as Json;
}

function text(raw: Json, key: string): string {
  const value = raw[key];
  if (typeof value !== "string") throw new Error(`members data: ${key} is not text`);
  return value;
}

export function readMembersData(value: unknown): MembersData {
  const raw = record(value, "the data");
  const lang = text(raw, "lang");
  if (lang !== "fr" && lang !== "en") throw new Error("members data: unknown language");
  const names = record(raw["names"], "names");
  const practitioners = raw["practitioners"];
  if (!Array.isArray(practitioners)) throw new Error("members data: practitioners is not a list");
  if (typeof raw["manage"] !== "boolean") throw new Error("members data: manage is not a boolean");
  return {
    lang,
    practiceId: text(raw, "practiceId"),
    me: text(raw, "me").toLowerCase(),
    names: Object.fromEntries(Object.entries(names).map(([id, name]) => [id.toLowerCase(), String(name)])),
    practitioners: practitioners.map((p) => {
      const entry = record(p, "a practitioner");
      return { id: text(entry, "id"), name: text(entry, "name") };
    }),
    manage: raw["manage"],
    pin: readPin(raw["pin"]),
    email: text(raw, "email"),
  };
}
