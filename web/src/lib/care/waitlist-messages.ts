// The text of the waitlist's offers and entries on "My appointments", in both languages: a key
// missing from, or extra in, either fails svelte-check.
import type { Lang } from "../i18n";

/** Why a decision did not go through, as a patient can act on it. */
export type OfferRefusal = "expired" | "closed" | "gone" | "signedOut" | "failed";

export interface WaitlistMessages {
  accept: string;
  decline: string;
  acceptTitle: string;
  unlockHint: string;
  visitType: string;
  reason: string;
  reasonHint: string;
  confirm: string;
  back: string;
  sealing: string;
  working: string;
  keysNotConfirmed: string;
  leave: string;
  refused: Record<OfferRefusal, string>;
  leaveFailed: string;
  minutes: (count: number) => string;
}

const fr: WaitlistMessages = {
  accept: "Accepter ce créneau",
  decline: "Refuser",
  acceptTitle: "Accepter le créneau proposé",
  unlockHint: "Le type de consultation et le motif sont chiffrés sur cet appareil, pour vous et le cabinet : confirmez votre mot de passe.",
  visitType: "Type de consultation",
  reason: "Motif (facultatif)",
  reasonHint: "Chiffré sur cet appareil : seuls vous et le cabinet pourrez le lire.",
  confirm: "Confirmer le rendez-vous",
  back: "Retour",
  sealing: "Chiffrement et envoi…",
  working: "Envoi…",
  keysNotConfirmed: "Rien n'a été envoyé : les nouvelles clés d'un membre du cabinet n'ont pas été confirmées.",
  leave: "Quitter la liste d'attente",
  refused: {
    expired: "Cette offre a expiré : le créneau n'est plus réservé pour vous. Vous restez sur la liste d'attente.",
    closed: "Cette offre n'est plus ouverte : elle a déjà été acceptée, refusée ou a expiré.",
    gone: "Cette offre n'est plus la vôtre : le créneau a été repris. Rechargez la page.",
    signedOut: "Votre session a expiré : reconnectez-vous.",
    failed: "Cela n'a pas fonctionné. Réessayez dans un instant.",
  },
  leaveFailed: "Impossible de quitter la liste d'attente pour l'instant. Rechargez la page.",
  minutes: (count) => `${count} min`,
};

const en: WaitlistMessages = {
  accept: "Accept this time",
  decline: "Decline",
  acceptTitle: "Accept the time offered",
  unlockHint: "The visit type and reason are encrypted on this device, for you and the practice: confirm your password.",
  visitType: "Visit type",
  reason: "Reason (optional)",
  reasonHint: "Encrypted on this device: only you and the practice can read it.",
  confirm: "Confirm the appointment",
  back: "Back",
  sealing: "Encrypting and sending…",
  working: "Sending…",
  keysNotConfirmed: "Nothing was sent: a practice member's new keys were not confirmed.",
  leave: "Leave the waitlist",
  refused: {
    expired: "This offer has expired: the time is no longer held for you. You are still on the waitlist.",
    closed: "This offer is no longer open: it was already accepted, declined or it lapsed.",
    gone: "This offer is no longer yours: the time was taken back. Reload the page.",
    signedOut: "Your session has ended: please sign in again.",
    failed: "That did not work. Please try again in a moment.",
  },
  leaveFailed: "You could not leave the waitlist just now. Reload the page.",
  minutes: (count) => `${count} min`,
};

export const waitlistMessages: Record<Lang, WaitlistMessages> = { fr, en };

/** The API's answer to a decision, as something to show (docs/api.md's problem+json). */
export function offerRefusalOf(status: number, rule: string | undefined): OfferRefusal {
  if (status === 401) return "signedOut";
  if (status === 404) return "gone";
  if (status === 422 && rule === "offer_expired") return "expired";
  if (status === 422 && rule === "offer_closed") return "closed";
  return "failed";
}
