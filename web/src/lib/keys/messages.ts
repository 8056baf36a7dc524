// The text of unlocking keys and of confirming a member's new keys, in both languages; a key
// missing from either is a type error.
import type { Lang } from "../i18n";

export interface KeyMessages {
  email: string;
  password: string;
  unlock: string;
  unlocking: string;
  unlockFailed: string;
  failed: string;
  changedTitle: string;
  changedWhy: string;
  changedHow: string;
  changedRisk: string;
  claimedName: string;
  serverClaim: string;
  unknownName: string;
  fingerprint: string;
  keyVersion: string;
  confirm: string;
  confirming: string;
  cancel: string;
}

const fr: KeyMessages = {
  email: "Adresse e-mail",
  password: "Mot de passe",
  unlock: "Déverrouiller",
  unlocking: "Déverrouillage…",
  unlockFailed: "Adresse ou mot de passe incorrect.",
  failed: "Vos clés n'ont pas pu être déverrouillées. Réessayez dans un instant.",
  changedTitle: "Les clés d'un membre du cabinet ont changé",
  changedWhy:
    "Ce membre a réinitialisé ses clés de chiffrement, par exemple après avoir perdu son mot de passe et son code de récupération. Rien n'a encore été chiffré pour ces nouvelles clés.",
  changedHow:
    "Avant de continuer, comparez l'empreinte ci-dessous avec celle que ce membre voit sur son propre appareil, par un autre moyen que ce site : au téléphone, ou au cabinet.",
  changedRisk: "Si elles diffèrent, ou si vous ne pouvez pas vérifier, annulez : quelqu'un d'autre que ce membre pourrait lire ce que vous chiffrez.",
  claimedName: "Nom",
  serverClaim: "(indiqué par le serveur, non vérifié)",
  unknownName: "non communiqué",
  fingerprint: "Empreinte des nouvelles clés",
  keyVersion: "Version des clés",
  confirm: "Les empreintes sont identiques : continuer",
  confirming: "Enregistrement…",
  cancel: "Annuler",
};

const en: KeyMessages = {
  email: "Email address",
  password: "Password",
  unlock: "Unlock",
  unlocking: "Unlocking…",
  unlockFailed: "Wrong address or password.",
  failed: "Your keys could not be unlocked. Try again in a moment.",
  changedTitle: "A practice member's keys have changed",
  changedWhy:
    "This member reset their encryption keys, for example after losing both their password and their recovery code. Nothing has been encrypted for these new keys yet.",
  changedHow:
    "Before going on, compare the fingerprint below with the one this member sees on their own device, through another channel than this site: by phone, or at the practice.",
  changedRisk: "If they differ, or if you cannot check, cancel: someone other than this member could read what you encrypt.",
  claimedName: "Name",
  serverClaim: "(as the server states it, not verified)",
  unknownName: "not given",
  fingerprint: "Fingerprint of the new keys",
  keyVersion: "Key version",
  confirm: "The fingerprints match: go on",
  confirming: "Saving…",
  cancel: "Cancel",
};

export const keyMessages: Record<Lang, KeyMessages> = { fr, en };
