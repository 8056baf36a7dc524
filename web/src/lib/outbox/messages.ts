// The held messages page, in both languages. A key missing from either language is a type error.
import type { Lang } from "../i18n";

export interface OutboxMessages {
  loading: string;
  none: string;
  failed: string;
  trippedAt: string;
  byAccount: string;
  byPractice: string;
  held: (cancellations: number, moves: number) => string;
  alerted: string;
  release: string;
  discard: string;
  confirmDiscard: (count: number) => string;
  confirm: string;
  cancel: string;
  released: (count: number) => string;
  discarded: (count: number) => string;
  conflict: string;
  forbidden: string;
}

// French puts 0 and 1 in the singular; English only 1.
const pluralFr = (count: number, one: string, many: string): string => `${count} ${count > 1 ? many : one}`;
const pluralEn = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;

const fr: OutboxMessages = {
  loading: "Chargement…",
  none: "Aucun message en attente.",
  failed: "La liste n'a pas pu être chargée. Réessayez dans un instant.",
  trippedAt: "Suspendu le",
  byAccount: "Par un compte du cabinet",
  byPractice: "Par le cabinet (plusieurs comptes)",
  held: (cancellations, moves) =>
    `${pluralFr(cancellations, "annulation", "annulations")} et ${pluralFr(moves, "déplacement", "déplacements")} en attente`,
  alerted: "Les administrateurs ont été prévenus par courriel.",
  release: "Envoyer",
  discard: "Abandonner",
  confirmDiscard: (count) => `Abandonner ${pluralFr(count, "message", "messages")} ? Les patients ne seront pas prévenus.`,
  confirm: "Abandonner",
  cancel: "Annuler",
  released: (count) => `${pluralFr(count, "message envoyé", "messages envoyés")} au prochain passage.`,
  discarded: (count) => `${pluralFr(count, "message abandonné", "messages abandonnés")}.`,
  conflict: "Un autre administrateur a déjà décidé : la liste est à jour.",
  forbidden: "Seuls les administrateurs du cabinet décident.",
};

const en: OutboxMessages = {
  loading: "Loading…",
  none: "No message is waiting.",
  failed: "The list could not be loaded. Try again in a moment.",
  trippedAt: "Paused on",
  byAccount: "By one account of the practice",
  byPractice: "By the practice (several accounts)",
  held: (cancellations, moves) =>
    `${pluralEn(cancellations, "cancellation", "cancellations")} and ${pluralEn(moves, "move", "moves")} waiting`,
  alerted: "The admins were told by email.",
  release: "Send",
  discard: "Discard",
  confirmDiscard: (count) => `Discard ${pluralEn(count, "message", "messages")}? The patients will not be told.`,
  confirm: "Discard",
  cancel: "Cancel",
  released: (count) => `${pluralEn(count, "message", "messages")} sent on the next round.`,
  discarded: (count) => `${pluralEn(count, "message", "messages")} discarded.`,
  conflict: "Another admin already decided: the list is up to date.",
  forbidden: "Only the practice's admins decide.",
};

export const outboxMessages: Record<Lang, OutboxMessages> = { fr, en };
