// The practice patient page's record sections, in both languages; a key missing from either is a
// type error. `shared` replaces the holder page's wording where the reader is the practice.
import type { Standing } from "../../crypto/protocol";
import type { Lang } from "../i18n";
import type { ClinicalState } from "./clinical";
import type { RecordMessages } from "../records/messages";

export interface MemberRecordMessages {
  unlockTitle: string;
  unlockHint: string;
  yourEmail: string;
  reasons: string;
  noReason: string;
  reasonBy: (standing: Standing) => string;
  notes: string;
  noNote: string;
  noteAuthor: (standing: Standing) => string;
  writeNote: string;
  writeNoteHint: string;
  saveNote: string;
  savingNote: string;
  noteSaved: string;
  noteFailed: string;
  practitionersOnly: (what: string) => string;
  /** A non-practitioner's notes section: for which key notes are sealed. */
  notesSealedFor: string;
  /** The practitioners' key group as this practitioner's browser found it. */
  clinical: Record<ClinicalState, string>;
  loadFailed: string;
  shared: Pick<RecordMessages, "author" | "write" | "writeHint" | "file">;
}

const fr: MemberRecordMessages = {
  unlockTitle: "Déverrouiller vos clés pour lire le dossier",
  unlockHint: "Les notes, messages et documents de ce patient sont chiffrés : confirmez votre mot de passe pour les ouvrir sur cet appareil.",
  yourEmail: "Votre adresse e-mail",
  reasons: "Motifs des rendez-vous",
  noReason: "Aucun motif chiffré pour ces rendez-vous.",
  reasonBy: (standing) => (standing === "holder" ? "Écrit par le patient" : standing === "member" ? "Écrit par le cabinet" : "Écrit par un ancien membre du cabinet"),
  notes: "Notes",
  noNote: "Aucune note pour l'instant.",
  noteAuthor: (standing) => (standing === "former member" ? "Ancien praticien du cabinet" : "Praticien du cabinet"),
  writeNote: "Nouvelle note",
  writeNoteHint: "Chiffrée sur votre appareil pour les praticiens du cabinet et le patient.",
  saveNote: "Enregistrer la note",
  savingNote: "Enregistrement…",
  noteSaved: "Note enregistrée.",
  noteFailed: "La note n'a pas pu être enregistrée.",
  practitionersOnly: (what) => `${what} : réservé aux praticiens du cabinet.`,
  notesSealedFor: "Les notes sont chiffrées pour la clé des praticiens, que votre appareil ne détient pas.",
  clinical: {
    ready: "Les notes sont chiffrées pour la clé des praticiens : le secrétariat et les administrateurs ne peuvent pas les ouvrir.",
    created: "La clé des praticiens a été créée sur cet appareil et partagée avec chaque praticien qui a des clés.",
    rotated: "La clé des praticiens a été renouvelée après un départ ; les notes déjà écrites restent lisibles.",
    shared: "La clé des praticiens a été partagée avec un praticien arrivé depuis.",
    waiting:
      "En attente de l'appareil d'un confrère pour recevoir la clé des praticiens : les notes chiffrées pour elle ne peuvent pas encore être lues ni écrites sur cet appareil.",
    failed: "La clé des praticiens n'a pas pu être vérifiée. Rechargez la page pour réessayer.",
  },
  loadFailed: "Le dossier n'a pas pu être chargé. Rechargez la page.",
  shared: {
    author: (standing, practice) => (standing === "holder" ? "Le patient" : standing === "member" ? practice : `${practice} (ancien membre)`),
    write: "Votre réponse au patient",
    writeHint: "Chiffrée sur votre appareil pour le cabinet et le patient.",
    file: "Fichier à ajouter au dossier",
  },
};

const en: MemberRecordMessages = {
  unlockTitle: "Unlock your keys to read the record",
  unlockHint: "This patient's notes, messages and documents are encrypted: confirm your password to open them on this device.",
  yourEmail: "Your email address",
  reasons: "Visit reasons",
  noReason: "No encrypted reason for these appointments.",
  reasonBy: (standing) => (standing === "holder" ? "Written by the patient" : standing === "member" ? "Written by the practice" : "Written by a former member of the practice"),
  notes: "Notes",
  noNote: "No notes yet.",
  noteAuthor: (standing) => (standing === "former member" ? "Former practitioner of the practice" : "Practitioner of the practice"),
  writeNote: "New note",
  writeNoteHint: "Encrypted on your device for the practice's practitioners and the patient.",
  saveNote: "Save the note",
  savingNote: "Saving…",
  noteSaved: "Note saved.",
  noteFailed: "The note could not be saved.",
  practitionersOnly: (what) => `${what}: for the practice's practitioners only.`,
  notesSealedFor: "Notes are encrypted for the practitioners' key, which your device does not hold.",
  clinical: {
    ready: "Notes are encrypted for the practitioners' key: the front desk and administrators cannot open them.",
    created: "The practitioners' key was created on this device and shared with every practitioner who has keys.",
    rotated: "The practitioners' key was renewed after someone left; notes written before stay readable.",
    shared: "The practitioners' key was shared with a practitioner who joined since.",
    waiting: "Waiting for a colleague's device to share the practitioners' key: notes encrypted for it cannot be read or written on this device yet.",
    failed: "The practitioners' key could not be checked. Reload the page to try again.",
  },
  loadFailed: "The record could not be loaded. Reload the page.",
  shared: {
    author: (standing, practice) => (standing === "holder" ? "The patient" : standing === "member" ? practice : `${practice} (former member)`),
    write: "Your reply to the patient",
    writeHint: "Encrypted on your device for the practice and the patient.",
    file: "File to add to the record",
  },
};

export const memberRecordMessages: Record<Lang, MemberRecordMessages> = { fr, en };
