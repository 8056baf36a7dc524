// The password policy of docs/accounts.md, as colloque.client.passwords applies it: the server
// never sees the password, so every client must refuse a weak one itself. zxcvbn-ts with the
// common and English dictionaries, the ones the Python estimator has (a French one would make the
// browser stricter than colloque.client, and weighs 1 MB); only the pages that set a password import this.
import { zxcvbn, zxcvbnOptions } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as english from "@zxcvbn-ts/language-en";

export const MIN_LENGTH = 12;
export const MAX_LENGTH = 1024;
export const MIN_SCORE = 3;
/** As the Python estimator: a longer password is judged on its first 72 characters. */
const ESTIMATOR_MAX = 72;

zxcvbnOptions.setOptions({
  graphs: common.adjacencyGraphs,
  dictionary: { ...common.dictionary, ...english.dictionary },
});

export type PasswordVerdict = { ok: true; score: number } | { ok: false; reason: "short" | "long" | "weak"; score: number };

/** The user's own words (address, name), split as the Python client splits them. */
function contextWords(userInputs: string[]): string[] {
  const words: string[] = [];
  for (const value of userInputs) {
    words.push(value);
    words.push(...value.split(/[\s@._+-]+/).filter((part) => [...part].length >= 3));
  }
  return words;
}

/** Characters are code points, as Python's len(), not UTF-16 units. */
export function judgePassword(password: string, userInputs: string[]): PasswordVerdict {
  const length = [...password.normalize("NFC")].length;
  if (length === 0) return { ok: false, reason: "short", score: 0 };
  const score = zxcvbn([...password].slice(0, ESTIMATOR_MAX).join(""), contextWords(userInputs)).score;
  if (length < MIN_LENGTH) return { ok: false, reason: "short", score };
  if (length > MAX_LENGTH) return { ok: false, reason: "long", score };
  return score < MIN_SCORE ? { ok: false, reason: "weak", score } : { ok: true, score };
}
