// The text of "My appointments" and "Relatives" components. One typed object per language, as
// in ../i18n.ts: a key missing from, or extra in, either language fails svelte-check.
import type { Lang } from "../i18n";

export interface CareMessages {
  cancel: string;
  cancelTitle: string;
  cancelReason: string;
  cancelConfirm: string;
  keep: string;
  reasons: Record<PatientCancelReason, string>;
  reschedule: string;
  rescheduleTitle: string;
  newSlot: string;
  laterSlots: string;
  rescheduleConfirm: string;
  noSlot: string;
  loading: string;
  working: string;
  refused: Record<Refusal, string>;
  firstName: string;
  lastName: string;
  birthDate: string;
  relationship: string;
  relationships: Record<RelativeKind, string>;
  add: string;
  edit: (name: string) => string;
  save: string;
  remove: (name: string) => string;
  removeConfirm: (name: string) => string;
  removeYes: string;
  close: string;
}

export type PatientCancelReason =
  | "patient_unavailable"
  | "no_longer_needed"
  | "booked_elsewhere"
  | "booked_by_mistake"
  | "other";
export const PATIENT_CANCEL_REASONS: PatientCancelReason[] = [
  "patient_unavailable",
  "no_longer_needed",
  "booked_elsewhere",
  "booked_by_mistake",
  "other",
];
export type RelativeKind = "child" | "parent" | "partner" | "sibling" | "dependant" | "other";

/** Why the API said no, as a patient can act on it (see problems.ts). */
export type Refusal =
  | "cutoff"
  | "taken"
  | "tooSoon"
  | "hoarding"
  | "notChangeable"
  | "invalid"
  | "signedOut"
  | "notFound"
  | "failed";

const fr: CareMessages = {
  cancel: "Annuler ce rendez-vous",
  cancelTitle: "Annuler le rendez-vous",
  cancelReason: "Raison de l'annulation",
  cancelConfirm: "Confirmer l'annulation",
  keep: "Garder le rendez-vous",
  reasons: {
    patient_unavailable: "Je ne suis pas disponible",
    no_longer_needed: "Ce n'est plus nécessaire",
    booked_elsewhere: "J'ai pris rendez-vous ailleurs",
    booked_by_mistake: "Rendez-vous pris par erreur",
    other: "Autre raison",
  },
  reschedule: "Déplacer ce rendez-vous",
  rescheduleTitle: "Choisir un autre créneau",
  newSlot: "Nouveau créneau (même praticien, même durée)",
  laterSlots: "Voir des créneaux plus tard",
  rescheduleConfirm: "Déplacer le rendez-vous",
  noSlot: "Aucun créneau libre sur cette période.",
  loading: "Chargement des créneaux…",
  working: "Un instant…",
  refused: {
    cutoff:
      "Il est trop tard pour changer ce rendez-vous en ligne : contactez directement le cabinet.",
    taken: "Ce créneau vient d'être pris. Voici les créneaux libres à jour.",
    tooSoon: "Ce créneau n'est plus réservable en ligne. Choisissez-en un autre.",
    hoarding: "Vous avez déjà un rendez-vous proche dans cette spécialité.",
    notChangeable: "Ce rendez-vous ne peut plus être changé (il est passé ou déjà annulé).",
    invalid: "Vérifiez les informations saisies.",
    signedOut: "Votre session a expiré. Reconnectez-vous puis réessayez.",
    notFound: "Introuvable : la page est peut-être ancienne. Rechargez-la.",
    failed: "Cela n'a pas fonctionné. Réessayez dans un instant.",
  },
  firstName: "Prénom",
  lastName: "Nom",
  birthDate: "Date de naissance",
  relationship: "Lien",
  relationships: {
    child: "Enfant",
    parent: "Parent",
    partner: "Conjoint(e)",
    sibling: "Frère ou sœur",
    dependant: "Personne à charge",
    other: "Autre",
  },
  add: "Ajouter ce proche",
  edit: (name) => `Modifier ${name}`,
  save: "Enregistrer",
  remove: (name) => `Retirer ${name}`,
  removeConfirm: (name) =>
    `Retirer ${name} de votre compte ? Ses rendez-vous restent auprès des cabinets.`,
  removeYes: "Oui, retirer",
  close: "Fermer",
};

const en: CareMessages = {
  cancel: "Cancel this appointment",
  cancelTitle: "Cancel the appointment",
  cancelReason: "Reason for cancelling",
  cancelConfirm: "Confirm the cancellation",
  keep: "Keep the appointment",
  reasons: {
    patient_unavailable: "I am not available",
    no_longer_needed: "It is no longer needed",
    booked_elsewhere: "I booked elsewhere",
    booked_by_mistake: "Booked by mistake",
    other: "Another reason",
  },
  reschedule: "Move this appointment",
  rescheduleTitle: "Choose another slot",
  newSlot: "New slot (same practitioner, same length)",
  laterSlots: "Show later slots",
  rescheduleConfirm: "Move the appointment",
  noSlot: "No free slot in this period.",
  loading: "Loading the slots…",
  working: "One moment…",
  refused: {
    cutoff: "It is too late to change this appointment online: please contact the practice.",
    taken: "This slot was just taken. Here are the free slots, up to date.",
    tooSoon: "This slot can no longer be booked online. Please choose another.",
    hoarding: "You already have an appointment close to this one in this specialty.",
    notChangeable: "This appointment can no longer be changed (it is past or already cancelled).",
    invalid: "Please check the details you entered.",
    signedOut: "Your session has ended. Log in again, then retry.",
    notFound: "Not found: the page may be out of date. Please reload it.",
    failed: "That did not work. Please try again in a moment.",
  },
  firstName: "First name",
  lastName: "Last name",
  birthDate: "Date of birth",
  relationship: "Relationship",
  relationships: {
    child: "Child",
    parent: "Parent",
    partner: "Partner",
    sibling: "Sibling",
    dependant: "Dependant",
    other: "Other",
  },
  add: "Add this relative",
  edit: (name) => `Edit ${name}`,
  save: "Save",
  remove: (name) => `Remove ${name}`,
  removeConfirm: (name) =>
    `Remove ${name} from your account? Their appointments stay with the practices.`,
  removeYes: "Yes, remove",
  close: "Close",
};

export const careMessages: Record<Lang, CareMessages> = { fr, en };
