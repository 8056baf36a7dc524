// The unlock form's text, in both languages; a key missing from either is a type error.
import type { Lang } from "../i18n";

export interface UnlockMessages {
  title: string;
  email: string;
  password: string;
  unlock: string;
  unlocking: string;
  failed: string;
}

const fr: UnlockMessages = {
  title: "Déverrouiller vos clés",
  email: "Adresse e-mail",
  password: "Mot de passe",
  unlock: "Déverrouiller",
  unlocking: "Déverrouillage…",
  failed: "Adresse ou mot de passe incorrect.",
};

const en: UnlockMessages = {
  title: "Unlock your keys",
  email: "Email address",
  password: "Password",
  unlock: "Unlock",
  unlocking: "Unlocking…",
  failed: "Wrong address or password.",
};

export const unlockMessages: Record<Lang, UnlockMessages> = { fr, en };
