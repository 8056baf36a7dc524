// The agenda's text, in both languages; a key missing from either is a type error.
import type { components } from "../api/schema";
import type { Lang } from "../i18n";

export type Status = components["schemas"]["Status"];
export type Source = components["schemas"]["Source"];
export type CancelReason = components["schemas"]["CancelReason"];
export type View = "day" | "week" | "list";

export interface AgendaMessages {
  toolbar: string;
  previous: (view: View) => string;
  next: (view: View) => string;
  today: string;
  view: string;
  views: Record<View, string>;
  practitioners: string;
  practitioner: string;
  printReasons: string;
  newAppointment: string;
  help: string;
  dayHeading: (day: string) => string;
  weekHeading: (first: string, last: string) => string;
  columnLabel: (who: string, day: string) => string;
  empty: string;
  loading: string;
  loadFailed: string;
  refreshed: string;
  time: string;
  patient: string;
  visitType: string;
  reason: string;
  statusLabel: string;
  sourceLabel: string;
  actions: string;
  status: Record<Status, string>;
  source: Record<Source, string>;
  /** The reason's state when it is not shown. */
  sealed: string;
  locked: string;
  refused: string;
  opening: string;
  unknownVisitType: string;
  visitTypeSealed: string;
  appointmentName: (a: { time: string; patient: string; visitType: string; status: string; source: string; practitioner: string }) => string;
  unlockTitle: string;
  unlockHint: string;
  reasonsOpened: (count: number) => string;
  details: string;
  close: string;
  move: string;
  moveTitle: string;
  date: string;
  startTime: string;
  moveSubmit: string;
  outsideHours: string;
  cancel: string;
  cancelTitle: string;
  cancelReason: string;
  cancelReasons: Record<CancelReason, string>;
  cancelSubmit: string;
  markDone: string;
  markNoShow: string;
  openRecord: string;
  back: string;
  done: { moved: string; cancelled: string; done: string; no_show: string };
  conflict: string;
  taken: string;
  refusedRule: string;
  notFound: string;
  failed: string;
  signedOut: string;
  confirmTitle: string;
  confirmText: (count: number) => string;
  confirmPassword: string;
  confirmCode: string;
  confirmSubmit: string;
  confirmWrong: string;
  helpTitle: string;
  shortcuts: { key: string; what: string }[];
  legendNoReason: string;
}

const fr: AgendaMessages = {
  toolbar: "Navigation dans l'agenda",
  previous: (view) => (view === "week" ? "Semaine précédente" : "Jour précédent"),
  next: (view) => (view === "week" ? "Semaine suivante" : "Jour suivant"),
  today: "Aujourd'hui",
  view: "Vue",
  views: { day: "Jour", week: "Semaine", list: "Liste" },
  practitioners: "Praticiens affichés",
  practitioner: "Praticien",
  printReasons: "Imprimer les motifs",
  newAppointment: "Nouveau rendez-vous",
  help: "Raccourcis clavier",
  dayHeading: (day) => day,
  weekHeading: (first, last) => `Semaine du ${first} au ${last}`,
  columnLabel: (who, day) => `${who}, ${day}`,
  empty: "Aucun rendez-vous.",
  loading: "Chargement de l'agenda…",
  loadFailed: "L'agenda n'a pas pu être chargé. Nouvel essai dans quelques secondes.",
  refreshed: "Agenda mis à jour.",
  time: "Heure",
  patient: "Patient",
  visitType: "Motif de consultation",
  reason: "Raison de la visite",
  statusLabel: "Statut",
  sourceLabel: "Origine",
  actions: "Actions",
  status: {
    held: "réservé provisoirement",
    booked: "confirmé",
    cancelled_by_patient: "annulé par le patient",
    cancelled_by_practice: "annulé par le cabinet",
    no_show: "absent",
    done: "vu",
    hold_lapsed: "réservation expirée",
  },
  source: { online: "en ligne", practice: "téléphone ou accueil", integration: "logiciel tiers", waitlist: "liste d'attente" },
  sealed: "Chiffré : votre rôle ne permet pas de le lire.",
  locked: "Chiffré : déverrouillez vos clés pour le lire.",
  refused: "Motif refusé : son auteur n'a pas pu être vérifié.",
  opening: "Déchiffrement…",
  unknownVisitType: "motif inconnu",
  visitTypeSealed: "motif chiffré",
  appointmentName: (a) => `${a.time}, ${a.patient}, ${a.visitType}, ${a.status}, ${a.source}, ${a.practitioner}`,
  unlockTitle: "Déverrouiller vos clés pour lire les motifs",
  unlockHint: "Les motifs sont chiffrés ; ils sont déchiffrés dans ce navigateur seulement.",
  reasonsOpened: (count) => (count <= 1 ? `${count} motif déchiffré.` : `${count} motifs déchiffrés.`),
  details: "Rendez-vous",
  close: "Fermer",
  move: "Déplacer",
  moveTitle: "Déplacer le rendez-vous",
  date: "Date",
  startTime: "Heure de début",
  moveSubmit: "Déplacer le rendez-vous",
  outsideHours: "En dehors des heures d'ouverture : rendez-vous supplémentaire, enregistré comme tel",
  cancel: "Annuler le rendez-vous",
  cancelTitle: "Annuler le rendez-vous",
  cancelReason: "Raison de l'annulation",
  cancelReasons: {
    patient_unavailable: "Le patient n'est pas disponible",
    no_longer_needed: "Plus nécessaire",
    booked_elsewhere: "Pris ailleurs",
    practitioner_unavailable: "Praticien indisponible",
    practice_closed: "Cabinet fermé",
    booked_by_mistake: "Pris par erreur",
    other: "Autre",
  },
  cancelSubmit: "Confirmer l'annulation",
  markDone: "Marquer vu",
  markNoShow: "Marquer absent",
  openRecord: "Dossier du patient",
  back: "Retour",
  done: { moved: "Rendez-vous déplacé.", cancelled: "Rendez-vous annulé.", done: "Rendez-vous marqué vu.", no_show: "Rendez-vous marqué absent." },
  conflict: "Ce rendez-vous a été modifié par quelqu'un d'autre entre-temps. Il a été rechargé : vérifiez-le, puis recommencez si besoin.",
  taken: "Ce créneau vient d'être pris. Le rendez-vous a été rechargé : choisissez un autre horaire.",
  refusedRule: "Ce changement n'est pas possible (horaires du cabinet ou règles de l'agenda).",
  notFound: "Ce rendez-vous n'existe plus.",
  failed: "Le changement n'a pas pu être fait. Réessayez.",
  signedOut: "Votre session a expiré : reconnectez-vous.",
  confirmTitle: "Confirmer ces changements",
  confirmText: (count) => `Vous avez annulé ou déplacé ${count} rendez-vous en quelques minutes. Pour continuer, confirmez votre mot de passe et votre code de double authentification.`,
  confirmPassword: "Mot de passe",
  confirmCode: "Code de double authentification",
  confirmSubmit: "Confirmer et continuer",
  confirmWrong: "Le mot de passe ou le code n'est pas bon.",
  helpTitle: "Raccourcis clavier",
  shortcuts: [
    { key: "N", what: "Jour ou semaine suivante" },
    { key: "P", what: "Jour ou semaine précédente" },
    { key: "T", what: "Aujourd'hui" },
    { key: "D", what: "Vue jour" },
    { key: "W", what: "Vue semaine" },
    { key: "L", what: "Vue liste" },
    { key: "B", what: "Nouveau rendez-vous" },
    { key: "?", what: "Cette aide" },
  ],
  legendNoReason: "—",
};

const en: AgendaMessages = {
  toolbar: "Agenda navigation",
  previous: (view) => (view === "week" ? "Previous week" : "Previous day"),
  next: (view) => (view === "week" ? "Next week" : "Next day"),
  today: "Today",
  view: "View",
  views: { day: "Day", week: "Week", list: "List" },
  practitioners: "Practitioners shown",
  practitioner: "Practitioner",
  printReasons: "Print reasons",
  newAppointment: "New appointment",
  help: "Keyboard shortcuts",
  dayHeading: (day) => day,
  weekHeading: (first, last) => `Week of ${first} to ${last}`,
  columnLabel: (who, day) => `${who}, ${day}`,
  empty: "No appointments.",
  loading: "Loading the agenda…",
  loadFailed: "The agenda could not be loaded. Trying again in a few seconds.",
  refreshed: "Agenda updated.",
  time: "Time",
  patient: "Patient",
  visitType: "Visit type",
  reason: "Reason for the visit",
  statusLabel: "Status",
  sourceLabel: "Source",
  actions: "Actions",
  status: {
    held: "held",
    booked: "booked",
    cancelled_by_patient: "cancelled by the patient",
    cancelled_by_practice: "cancelled by the practice",
    no_show: "no-show",
    done: "done",
    hold_lapsed: "hold lapsed",
  },
  source: { online: "online", practice: "phone or desk", integration: "integration", waitlist: "waitlist" },
  sealed: "Sealed: your role may not read it.",
  locked: "Sealed: unlock your keys to read it.",
  refused: "Reason refused: its author could not be verified.",
  opening: "Decrypting…",
  unknownVisitType: "unknown visit type",
  visitTypeSealed: "visit type sealed",
  appointmentName: (a) => `${a.time}, ${a.patient}, ${a.visitType}, ${a.status}, ${a.source}, ${a.practitioner}`,
  unlockTitle: "Unlock your keys to read the reasons",
  unlockHint: "Reasons are encrypted; they are decrypted in this browser only.",
  reasonsOpened: (count) => (count === 1 ? "1 reason decrypted." : `${count} reasons decrypted.`),
  details: "Appointment",
  close: "Close",
  move: "Move",
  moveTitle: "Move the appointment",
  date: "Date",
  startTime: "Start time",
  moveSubmit: "Move the appointment",
  outsideHours: "Outside the opening hours: an extra appointment, recorded as such",
  cancel: "Cancel the appointment",
  cancelTitle: "Cancel the appointment",
  cancelReason: "Reason for cancelling",
  cancelReasons: {
    patient_unavailable: "The patient is unavailable",
    no_longer_needed: "No longer needed",
    booked_elsewhere: "Booked elsewhere",
    practitioner_unavailable: "Practitioner unavailable",
    practice_closed: "Practice closed",
    booked_by_mistake: "Booked by mistake",
    other: "Other",
  },
  cancelSubmit: "Confirm the cancellation",
  markDone: "Mark done",
  markNoShow: "Mark no-show",
  openRecord: "Patient's record",
  back: "Back",
  done: { moved: "Appointment moved.", cancelled: "Appointment cancelled.", done: "Appointment marked done.", no_show: "Appointment marked no-show." },
  conflict: "Someone else changed this appointment meanwhile. It has been reloaded: check it, then try again if needed.",
  taken: "This time was just taken. The appointment has been reloaded: choose another time.",
  refusedRule: "This change is not possible (the practice's hours or the agenda's rules).",
  notFound: "This appointment no longer exists.",
  failed: "The change could not be made. Try again.",
  signedOut: "Your session has expired: log in again.",
  confirmTitle: "Confirm these changes",
  confirmText: (count) => `You cancelled or moved ${count} appointments in a few minutes. To go on, confirm your password and your two-factor code.`,
  confirmPassword: "Password",
  confirmCode: "Two-factor code",
  confirmSubmit: "Confirm and go on",
  confirmWrong: "The password or the code is not right.",
  helpTitle: "Keyboard shortcuts",
  shortcuts: [
    { key: "N", what: "Next day or week" },
    { key: "P", what: "Previous day or week" },
    { key: "T", what: "Today" },
    { key: "D", what: "Day view" },
    { key: "W", what: "Week view" },
    { key: "L", what: "List view" },
    { key: "B", what: "New appointment" },
    { key: "?", what: "This help" },
  ],
  legendNoReason: "—",
};

export const agendaMessages: Record<Lang, AgendaMessages> = { fr, en };
