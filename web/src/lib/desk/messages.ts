// The desk pages' text, in both languages; a key missing from either is a type error.
import type { Lang } from "../i18n";

export interface DeskMessages {
  unlockTitle: string;
  unlockHint: string;
  patientTitle: string;
  search: string;
  searchHint: string;
  searching: string;
  noMatch: string;
  results: (count: number) => string;
  born: (date: string) => string;
  hasAccount: string;
  chosen: string;
  change: string;
  newPatient: string;
  newPatientTitle: string;
  firstName: string;
  lastName: string;
  birthDate: string;
  phone: string;
  email: string;
  optional: string;
  register: string;
  duplicate: string;
  registerAnyway: string;
  slotTitle: string;
  practitioner: string;
  visitType: string;
  minutes: (count: number) => string;
  freeSlots: string;
  noFreeSlot: string;
  otherTime: string;
  otherTimeLabel: string;
  outsideHours: string;
  outsideHoursHint: string;
  closed: string;
  reason: string;
  reasonHint: string;
  book: string;
  sealing: string;
  taken: string;
  invalid: (field: string) => string;
  failed: string;
  keysNotConfirmed: string;
  doneTitle: string;
  done: (name: string, when: string) => string;
  outsideHoursDone: string;
  openPatient: string;
  another: string;
  pickPatient: string;
  pickTime: string;
  contactSave: string;
  contactSaved: string;
  contactStale: string;
  contactReload: string;
}

export const deskMessages: Record<Lang, DeskMessages> = {
  fr: {
    unlockTitle: "Ouvrir vos clés",
    unlockHint: "Le motif est chiffré dans ce navigateur avec vos clés : saisissez votre mot de passe une fois pour cet onglet.",
    patientTitle: "1. Patient",
    search: "Rechercher un patient",
    searchHint: "Nom, numéro de téléphone ou date de naissance (jj/mm/aaaa).",
    searching: "Recherche…",
    noMatch: "Aucun patient ne correspond.",
    results: (count) => (count === 1 ? "1 patient trouvé" : `${count} patients trouvés`),
    born: (date) => `né(e) le ${date}`,
    hasAccount: "a un compte",
    chosen: "Patient choisi",
    change: "Changer de patient",
    newPatient: "Nouveau patient",
    newPatientTitle: "Enregistrer un nouveau patient",
    firstName: "Prénom",
    lastName: "Nom",
    birthDate: "Date de naissance",
    phone: "Téléphone",
    email: "Adresse e-mail",
    optional: "facultatif",
    register: "Enregistrer le patient",
    duplicate: "Le cabinet a déjà un patient de ce nom né ce jour-là : recherchez-le, ou enregistrez une autre personne.",
    registerAnyway: "C'est une autre personne : l'enregistrer",
    slotTitle: "2. Créneau",
    practitioner: "Praticien",
    visitType: "Type de consultation",
    minutes: (count) => `${count} min`,
    freeSlots: "Prochains créneaux libres",
    noFreeSlot: "Aucun créneau libre dans les deux semaines : saisissez une heure.",
    otherTime: "Autre heure",
    otherTimeLabel: "Date et heure (heure du cabinet)",
    outsideHours: "Rendez-vous supplémentaire hors des horaires d'ouverture",
    outsideHoursHint: "À cocher seulement pour forcer un rendez-vous en dehors des horaires : il est enregistré comme tel.",
    closed: "Le cabinet est fermé à cette heure : cochez « hors des horaires » pour forcer ce rendez-vous.",
    reason: "3. Motif (chiffré)",
    reasonHint: "Visible seulement par le cabinet et le patient.",
    book: "Prendre le rendez-vous",
    sealing: "Chiffrement et envoi…",
    taken: "Ce créneau vient d'être pris ou chevauche un autre rendez-vous : choisissez-en un autre.",
    invalid: (field) => `Ce champ n'est pas valide : ${field}.`,
    failed: "Cela n'a pas fonctionné. Réessayez.",
    keysNotConfirmed: "Rien n'a été chiffré : les nouvelles clés n'ont pas été confirmées.",
    doneTitle: "Rendez-vous pris",
    done: (name, when) => `Rendez-vous pris pour ${name}, ${when}.`,
    outsideHoursDone: "Enregistré comme rendez-vous hors horaires.",
    openPatient: "Voir le dossier du patient",
    another: "Prendre un autre rendez-vous",
    pickPatient: "Choisissez d'abord un patient.",
    pickTime: "Choisissez un créneau ou saisissez une heure.",
    contactSave: "Enregistrer les coordonnées",
    contactSaved: "Coordonnées enregistrées.",
    contactStale: "Quelqu'un a modifié ces coordonnées entre-temps : rien n'a été enregistré. Rechargez la page pour voir les nouvelles, puis recommencez.",
    contactReload: "Recharger la page",
  },
  en: {
    unlockTitle: "Open your keys",
    unlockHint: "The reason is encrypted in this browser with your keys: type your password once for this tab.",
    patientTitle: "1. Patient",
    search: "Find a patient",
    searchHint: "Name, phone number or birth date (dd/mm/yyyy).",
    searching: "Searching…",
    noMatch: "No patient matches.",
    results: (count) => (count === 1 ? "1 patient found" : `${count} patients found`),
    born: (date) => `born ${date}`,
    hasAccount: "has an account",
    chosen: "Patient",
    change: "Change patient",
    newPatient: "New patient",
    newPatientTitle: "Register a new patient",
    firstName: "First name",
    lastName: "Last name",
    birthDate: "Birth date",
    phone: "Phone",
    email: "Email",
    optional: "optional",
    register: "Register the patient",
    duplicate: "The practice has a patient of this name born that day: find them, or register another person.",
    registerAnyway: "This is another person: register them",
    slotTitle: "2. Time",
    practitioner: "Practitioner",
    visitType: "Visit type",
    minutes: (count) => `${count} min`,
    freeSlots: "Next free slots",
    noFreeSlot: "No free slot in the next two weeks: type a time.",
    otherTime: "Another time",
    otherTimeLabel: "Date and time (the practice's time)",
    outsideHours: "Extra appointment outside the opening hours",
    outsideHoursHint: "Tick only to force an appointment outside the hours: it is recorded as such.",
    closed: "The practice is closed at this time: tick \"outside the opening hours\" to force this appointment.",
    reason: "3. Reason (encrypted)",
    reasonHint: "Only the practice and the patient can read it.",
    book: "Book the appointment",
    sealing: "Encrypting and sending…",
    taken: "This time was just taken or overlaps another appointment: choose another.",
    invalid: (field) => `This field is not valid: ${field}.`,
    failed: "That did not work. Try again.",
    keysNotConfirmed: "Nothing was encrypted: the new keys were not confirmed.",
    doneTitle: "Appointment booked",
    done: (name, when) => `Appointment booked for ${name}, ${when}.`,
    outsideHoursDone: "Recorded as an appointment outside the opening hours.",
    openPatient: "Open the patient's record",
    another: "Book another appointment",
    pickPatient: "Choose a patient first.",
    pickTime: "Choose a slot or type a time.",
    contactSave: "Save the contact details",
    contactSaved: "Contact details saved.",
    contactStale: "Someone changed these contact details meanwhile: nothing was saved. Reload the page to see theirs, then try again.",
    contactReload: "Reload the page",
  },
};
