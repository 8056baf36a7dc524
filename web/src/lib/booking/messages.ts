// The booking page's text, in both languages; a key missing from either is a type error.
import type { Lang } from "../i18n";

export interface BookingMessages {
  slot: string;
  with: (name: string, practice: string) => string;
  visitType: string;
  minutes: (count: number) => string;
  forWhom: string;
  self: string;
  reason: string;
  reasonHint: string;
  book: string;
  sealing: string;
  signedOut: string;
  logIn: string;
  signUp: string;
  unlockTitle: string;
  unlockHint: string;
  noPatient: string;
  takenTitle: string;
  taken: string;
  freshSlots: string;
  noFreshSlot: string;
  failed: string;
  keysNotConfirmed: string;
  notAllowed: string;
  doneTitle: string;
  done: string;
  summary: string;
  backToPractitioner: string;
}

const fr: BookingMessages = {
  slot: "Créneau",
  with: (name, practice) => `avec ${name}, ${practice}`,
  visitType: "Motif de consultation",
  minutes: (count) => `${count} min`,
  forWhom: "Pour qui ?",
  self: "Moi-même",
  reason: "Raison de la visite (facultatif)",
  reasonHint: "Chiffrée sur votre appareil : seuls vous et le cabinet pouvez la lire.",
  book: "Confirmer le rendez-vous",
  sealing: "Chiffrement et envoi…",
  signedOut: "Connectez-vous ou créez un compte pour réserver ce créneau : il vous attendra ici.",
  logIn: "Se connecter",
  signUp: "Créer un compte",
  unlockTitle: "Déverrouiller vos clés",
  unlockHint: "Votre motif est chiffré avec vos clés, qui ne quittent pas votre appareil : confirmez votre mot de passe pour les ouvrir.",
  noPatient: "Votre compte n'a pas encore de dossier patient : complétez votre profil avant de réserver.",
  takenTitle: "Ce créneau vient d'être pris",
  taken: "Quelqu'un a réservé ce créneau juste avant vous. Voici les créneaux encore libres :",
  freshSlots: "Créneaux libres",
  noFreshSlot: "Plus aucun créneau libre ces deux prochaines semaines.",
  failed: "Le rendez-vous n'a pas pu être pris. Réessayez dans un instant.",
  keysNotConfirmed:
    "Les nouvelles clés n'ont pas été confirmées : rien n'a été chiffré ni réservé. Contactez le cabinet pour comparer l'empreinte, ou pour prendre rendez-vous par téléphone.",
  notAllowed: "Ce motif n'est pas possible sur ce créneau (par exemple réservé aux patients déjà suivis) : choisissez-en un autre.",
  doneTitle: "Rendez-vous confirmé",
  done: "Votre rendez-vous est enregistré. Le motif a été chiffré avant de quitter votre appareil.",
  summary: "Récapitulatif",
  backToPractitioner: "Retour à la page du praticien",
};

const en: BookingMessages = {
  slot: "Slot",
  with: (name, practice) => `with ${name}, ${practice}`,
  visitType: "Visit type",
  minutes: (count) => `${count} min`,
  forWhom: "Who is it for?",
  self: "Myself",
  reason: "Reason for the visit (optional)",
  reasonHint: "Encrypted on your device: only you and the practice can read it.",
  book: "Confirm the appointment",
  sealing: "Encrypting and sending…",
  signedOut: "Log in or sign up to book this slot: it will be waiting for you here.",
  logIn: "Log in",
  signUp: "Sign up",
  unlockTitle: "Unlock your keys",
  unlockHint: "Your reason is encrypted with your keys, which never leave your device: confirm your password to open them.",
  noPatient: "Your account has no patient record yet: complete your profile before booking.",
  takenTitle: "This slot was just taken",
  taken: "Someone booked this slot just before you. These slots are still free:",
  freshSlots: "Free slots",
  noFreshSlot: "No free slot in the next two weeks.",
  failed: "The appointment could not be booked. Try again in a moment.",
  keysNotConfirmed:
    "The new keys were not confirmed, so nothing was encrypted or booked. Contact the practice to compare the fingerprint, or to book by phone.",
  notAllowed: "This visit type is not possible at this slot (for example, for known patients only): choose another one.",
  doneTitle: "Appointment confirmed",
  done: "Your appointment is booked. The reason was encrypted before it left your device.",
  summary: "Summary",
  backToPractitioner: "Back to the practitioner's page",
};

export const bookingMessages: Record<Lang, BookingMessages> = { fr, en };
