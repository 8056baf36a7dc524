// The settings and time off pages' text, in both languages (a missing key is a type error).
import type { Lang } from "../i18n";

export interface SettingsMessages {
  weekdays: string[];
  practitioner: string;
  practitionerIs: (name: string) => string;
  practitioners: string;
  newPractitioner: string;
  title: string;
  firstName: string;
  lastName: string;
  specialty: string;
  visitTypes: string;
  weeklyHours: string;
  breaks: string;
  rules: string;
  practiceSettings: string;
  label: string;
  duration: string;
  onlineBookable: string;
  reminders: string;
  patientKind: string;
  patientKinds: Record<"any" | "new_only" | "known_only", string>;
  mode: string;
  modes: Record<"in_person" | "video", string>;
  weekday: string;
  start: string;
  end: string;
  visitTypesOfOpening: string;
  slotStep: string;
  minNotice: string;
  maxHorizon: string;
  bufferAfter: string;
  dailyCap: string;
  cancelCutoff: string;
  antiHoarding: string;
  holdMinutes: string;
  save: string;
  saving: string;
  saved: string;
  add: string;
  retire: string;
  retired: string;
  remove: string;
  removed: string;
  readOnly: string;
  conflict: string;
  gone: string;
  forbidden: string;
  failed: string;
  invalid: (detail: string | undefined) => string;
  overlaps: (other: string) => string;
  overlapsElsewhere: string;
  loading: string;
  none: string;
  newVisitType: string;
  newOpening: string;
  newBreak: string;
  openingName: (weekday: string, start: string, end: string) => string;
  // time off
  newTimeOff: string;
  kind: string;
  kinds: Record<"absence" | "holiday", string>;
  firstDay: string;
  lastDay: string;
  wholeDays: string;
  check: string;
  covered: (count: number) => string;
  coveredNone: string;
  whatHappens: string;
  confirmSave: string;
  confirmCancel: (count: number) => string;
  coveredChanged: string;
  timeOffSaved: string;
  timeOffSavedCancelled: (count: number) => string;
  existing: string;
  period: (first: string, last: string) => string;
  hours: (start: string, end: string) => string;
  removeTimeOff: (what: string) => string;
}

const fr: SettingsMessages = {
  weekdays: ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
  practitioner: "Praticien",
  practitionerIs: (name) => `Praticien : ${name}`,
  practitioners: "Praticiens",
  newPractitioner: "Nouveau praticien",
  title: "Titre (Dr, Pr…)",
  firstName: "Prénom",
  lastName: "Nom",
  specialty: "Spécialité",
  visitTypes: "Motifs de consultation",
  weeklyHours: "Horaires de la semaine",
  breaks: "Pauses",
  rules: "Règles de réservation",
  practiceSettings: "Réglages du cabinet",
  label: "Libellé",
  duration: "Durée (minutes)",
  onlineBookable: "Réservable en ligne",
  reminders: "Rappels avant le rendez-vous",
  patientKind: "Patients",
  patientKinds: { any: "Tous", new_only: "Nouveaux seulement", known_only: "Déjà connus seulement" },
  mode: "Mode",
  modes: { in_person: "Au cabinet", video: "Vidéo" },
  weekday: "Jour",
  start: "Début",
  end: "Fin",
  visitTypesOfOpening: "Motifs proposés",
  slotStep: "Pas des créneaux (minutes)",
  minNotice: "Délai minimal avant un rendez-vous (minutes)",
  maxHorizon: "Réservable jusqu'à (jours)",
  bufferAfter: "Battement après chaque rendez-vous (minutes)",
  dailyCap: "Rendez-vous par jour au plus (vide : sans limite)",
  cancelCutoff: "Annulation en ligne jusqu'à (minutes avant)",
  antiHoarding: "Jours minimum entre deux rendez-vous d'un patient",
  holdMinutes: "Durée de réservation d'un créneau proposé (minutes)",
  save: "Enregistrer",
  saving: "Enregistrement…",
  saved: "Enregistré.",
  add: "Ajouter",
  retire: "Retirer ce motif",
  retired: "Motif retiré : il ne sera plus proposé ; les rendez-vous pris restent.",
  remove: "Supprimer",
  removed: "Supprimé.",
  readOnly: "Votre rôle vous permet de consulter ces réglages, pas de les modifier.",
  conflict:
    "Quelqu'un d'autre a modifié cet élément depuis que vous l'avez ouvert. Voici les valeurs actuelles : rien n'a été enregistré. Refaites votre modification si elle est toujours utile.",
  gone: "Cet élément n'existe plus : quelqu'un l'a supprimé.",
  forbidden: "Votre rôle ne permet pas cette modification.",
  failed: "La modification n'a pas pu être enregistrée. Réessayez dans un instant.",
  invalid: () => "Cette valeur n'est pas acceptée.",
  overlaps: (other) => `Ce créneau chevauche un autre horaire du praticien : ${other}.`,
  overlapsElsewhere: "Ce créneau chevauche un horaire du praticien dans un autre cabinet : on ne peut être à deux endroits à la fois.",
  loading: "Chargement…",
  none: "Aucun pour l'instant.",
  newVisitType: "Nouveau motif",
  newOpening: "Nouvel horaire",
  newBreak: "Nouvelle pause",
  openingName: (weekday, start, end) => `${weekday} ${start}–${end}`,
  newTimeOff: "Nouvelle absence",
  kind: "Type",
  kinds: { absence: "Absence (ou temps bloqué)", holiday: "Congés (jours entiers)" },
  firstDay: "Premier jour",
  lastDay: "Dernier jour",
  wholeDays: "Laissez les heures vides pour des journées entières.",
  check: "Voir les rendez-vous concernés",
  covered: (count) =>
    `${count} rendez-vous pris ${count > 1 ? "tombent" : "tombe"} pendant cette absence :`,
  coveredNone: "Aucun rendez-vous pris pendant cette absence.",
  whatHappens:
    "Enregistrer l'absence annule ces rendez-vous au nom du cabinet. Chaque patient est prévenu, avec les prochains horaires libres (ou la liste d'attente).",
  confirmSave: "Enregistrer l'absence",
  confirmCancel: (count) =>
    `Enregistrer l'absence et annuler ${count > 1 ? `ces ${count} rendez-vous` : "ce rendez-vous"}`,
  coveredChanged: "Les rendez-vous ont changé depuis la liste : voici la liste à jour. Rien n'est enregistré.",
  timeOffSaved: "Absence enregistrée.",
  timeOffSavedCancelled: (count) =>
    `Absence enregistrée ; ${count} rendez-vous ${count > 1 ? "annulés" : "annulé"}, chaque patient est prévenu.`,
  existing: "Absences et congés à venir",
  period: (first, last) => (first === last ? `le ${first}` : `du ${first} au ${last}`),
  hours: (start, end) => `de ${start} à ${end}`,
  removeTimeOff: (what) => `Supprimer : ${what}`,
};

const en: SettingsMessages = {
  weekdays: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
  practitioner: "Practitioner",
  practitionerIs: (name) => `Practitioner: ${name}`,
  practitioners: "Practitioners",
  newPractitioner: "New practitioner",
  title: "Title (Dr, Prof…)",
  firstName: "First name",
  lastName: "Last name",
  specialty: "Specialty",
  visitTypes: "Visit types",
  weeklyHours: "Weekly hours",
  breaks: "Breaks",
  rules: "Booking rules",
  practiceSettings: "Practice settings",
  label: "Label",
  duration: "Length (minutes)",
  onlineBookable: "Bookable online",
  reminders: "Reminders before the appointment",
  patientKind: "Patients",
  patientKinds: { any: "All", new_only: "New patients only", known_only: "Known patients only" },
  mode: "Mode",
  modes: { in_person: "In person", video: "Video" },
  weekday: "Day",
  start: "Start",
  end: "End",
  visitTypesOfOpening: "Visit types offered",
  slotStep: "Slot step (minutes)",
  minNotice: "Minimum notice (minutes)",
  maxHorizon: "Bookable up to (days ahead)",
  bufferAfter: "Buffer after each appointment (minutes)",
  dailyCap: "At most this many appointments a day (empty: no cap)",
  cancelCutoff: "Online cancel cut-off (minutes before)",
  antiHoarding: "Minimum days between two appointments of one patient",
  holdMinutes: "How long an offered slot is held (minutes)",
  save: "Save",
  saving: "Saving…",
  saved: "Saved.",
  add: "Add",
  retire: "Retire this visit type",
  retired: "Visit type retired: it is offered no more; booked appointments stay.",
  remove: "Remove",
  removed: "Removed.",
  readOnly: "Your role lets you read these settings, not change them.",
  conflict:
    "This was changed by someone else since you opened it. Here are the current values: nothing was saved. Make your change again if it is still needed.",
  gone: "This no longer exists: someone removed it.",
  forbidden: "Your role does not allow this change.",
  failed: "The change could not be saved. Try again in a moment.",
  invalid: (detail) => (detail === undefined ? "This value is not accepted." : `Not accepted: ${detail}.`),
  overlaps: (other) => `This overlaps another opening of the practitioner: ${other}.`,
  overlapsElsewhere: "This overlaps an opening of the practitioner at another practice: nobody can be in two places at once.",
  loading: "Loading…",
  none: "None yet.",
  newVisitType: "New visit type",
  newOpening: "New opening",
  newBreak: "New break",
  openingName: (weekday, start, end) => `${weekday} ${start}–${end}`,
  newTimeOff: "New time off",
  kind: "Kind",
  kinds: { absence: "Absence (or blocked time)", holiday: "Holiday (whole days)" },
  firstDay: "First day",
  lastDay: "Last day",
  wholeDays: "Leave the times empty for whole days.",
  check: "Show the appointments it covers",
  covered: (count) => `${count} booked appointment${count > 1 ? "s fall" : " falls"} in this time off:`,
  coveredNone: "No booked appointment in this time off.",
  whatHappens:
    "Saving the time off cancels these appointments on the practice's behalf. Each patient is told, with the next free times (or the waitlist).",
  confirmSave: "Save the time off",
  confirmCancel: (count) =>
    `Save the time off and cancel ${count > 1 ? `these ${count} appointments` : "this appointment"}`,
  coveredChanged: "The appointments changed since the list was shown: here is the list as it is now. Nothing was saved.",
  timeOffSaved: "Time off saved.",
  timeOffSavedCancelled: (count) =>
    `Time off saved; ${count} appointment${count > 1 ? "s" : ""} cancelled, each patient told.`,
  existing: "Upcoming time off",
  period: (first, last) => (first === last ? `on ${first}` : `from ${first} to ${last}`),
  hours: (start, end) => `${start} to ${end}`,
  removeTimeOff: (what) => `Remove: ${what}`,
};

export const settingsMessages: Record<Lang, SettingsMessages> = { fr, en };
