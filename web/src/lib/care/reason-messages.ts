// The text of reading one's sealed reasons on "My appointments", in both languages.
import type { Lang } from "../i18n";

export type ReasonStanding = "holder" | "member" | "former member";

export interface ReasonMessages {
  hint: string;
  opening: string;
  opened: (count: number) => string;
  visitTypeIs: (label: string) => string;
  unknownVisitType: string;
  noReason: string;
  writtenBy: Record<ReasonStanding, string>;
  notConfirmed: string;
  failed: string;
}

const fr: ReasonMessages = {
  hint: "Vos motifs sont déchiffrés sur cet appareil, par vos clés : confirmez votre mot de passe pour les ouvrir. Ils ne sont affichés que sur cette page, jusqu'à ce que vous la quittiez.",
  opening: "Déchiffrement des motifs…",
  opened: (count) => (count === 1 ? "1 motif déchiffré." : `${count} motifs déchiffrés.`),
  visitTypeIs: (label) => `Type de consultation : ${label}`,
  unknownVisitType: "type de consultation inconnu du cabinet",
  noReason: "(aucun motif saisi)",
  writtenBy: {
    holder: "Écrit par vous.",
    member: "Écrit par le cabinet.",
    "former member": "Écrit par une personne qui ne fait plus partie du cabinet.",
  },
  notConfirmed: "Non déchiffré : les nouvelles clés d'un membre du cabinet n'ont pas été confirmées.",
  failed: "Ce motif n'a pas pu être déchiffré. Réessayez dans un instant.",
};

const en: ReasonMessages = {
  hint: "Your reasons are decrypted on this device, with your keys: confirm your password to open them. They are shown on this page only, until you leave it.",
  opening: "Decrypting the reasons…",
  opened: (count) => (count === 1 ? "1 reason decrypted." : `${count} reasons decrypted.`),
  visitTypeIs: (label) => `Visit type: ${label}`,
  unknownVisitType: "a visit type the practice no longer lists",
  noReason: "(no reason given)",
  writtenBy: {
    holder: "Written by you.",
    member: "Written by the practice.",
    "former member": "Written by someone who has left the practice.",
  },
  notConfirmed: "Not decrypted: a practice member's new keys were not confirmed.",
  failed: "This reason could not be decrypted. Try again in a moment.",
};

export const reasonMessages: Record<Lang, ReasonMessages> = { fr, en };
