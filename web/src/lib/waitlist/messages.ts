// The text of joining a practitioner's waitlist from their page, in both languages: a key
// missing from, or extra in, either fails svelte-check.
import type { Lang } from "../i18n";

export type JoinRefusal = "duplicate" | "limit" | "firstDay" | "lastDay" | "visitType" | "notAccepted" | "failed";

export interface JoinMessages {
  signedOut: string;
  logIn: string;
  loading: string;
  forWhom: string;
  self: string;
  visitType: string;
  minutes: (count: number) => string;
  firstDay: string;
  lastDay: string;
  join: string;
  working: string;
  joined: string;
  seeOffers: string;
  refused: Record<JoinRefusal, string>;
}

const fr: JoinMessages = {
  signedOut: "Connectez-vous pour vous inscrire sur la liste d'attente.",
  logIn: "Se connecter",
  loading: "Chargement…",
  forWhom: "Pour qui",
  self: "Moi-même",
  visitType: "Type de consultation",
  minutes: (count) => `${count} min`,
  firstDay: "À partir du",
  lastDay: "Jusqu'au",
  join: "M'inscrire sur la liste d'attente",
  working: "Inscription…",
  joined: "Vous êtes sur la liste d'attente : si un créneau se libère, nous vous l'écrirons et il vous sera réservé un moment.",
  seeOffers: "Voir mes rendez-vous et offres",
  refused: {
    duplicate: "Cette personne attend déjà ce praticien sur ces dates.",
    limit: "Cette personne attend déjà sur le nombre maximal de listes d'attente.",
    firstDay: "Vérifiez le premier jour.",
    lastDay: "Vérifiez le dernier jour : il doit être après le premier, pas dans le passé, et à moins de 120 jours du premier.",
    visitType: "Ce type de consultation ne se prend plus en ligne.",
    notAccepted: "Ce praticien n'accepte pas de nouveaux patients en ligne.",
    failed: "L'inscription n'a pas fonctionné. Réessayez dans un instant.",
  },
};

const en: JoinMessages = {
  signedOut: "Log in to join the waitlist.",
  logIn: "Log in",
  loading: "Loading…",
  forWhom: "For whom",
  self: "Myself",
  visitType: "Visit type",
  minutes: (count) => `${count} min`,
  firstDay: "From",
  lastDay: "Until",
  join: "Join the waitlist",
  working: "Joining…",
  joined: "You are on the waitlist: if a time frees up, we will write to you and hold it for you for a while.",
  seeOffers: "See my appointments and offers",
  refused: {
    duplicate: "This person already waits for this practitioner on these days.",
    limit: "This person already waits on as many waitlists as allowed.",
    firstDay: "Check the first day.",
    lastDay: "Check the last day: after the first, not in the past, and within 120 days of the first.",
    visitType: "This visit type is no longer booked online.",
    notAccepted: "This practitioner does not accept new patients online.",
    failed: "Joining did not work. Please try again in a moment.",
  },
};

export const joinMessages: Record<Lang, JoinMessages> = { fr, en };
