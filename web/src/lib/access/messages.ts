// "Who can open what", in both languages: which of a practice's sealed items a member's role can
// open, and for which key group each is sealed. A key missing from either language is a type error.
import type { Lang } from "../i18n";

export interface AccessMessages {
  title: string;
  item: string;
  sealedFor: string;
  yourRole: string;
  reasons: string;
  reasonsFor: string;
  notes: string;
  notesFor: string;
  canOpen: string;
  cannotOpen: string;
}

const fr: AccessMessages = {
  title: "Qui peut ouvrir quoi",
  item: "Élément",
  sealedFor: "Chiffré pour",
  yourRole: "Avec votre rôle",
  reasons: "Motifs de rendez-vous",
  reasonsFor: "Tous les membres du cabinet (clé du cabinet) et le patient",
  notes: "Notes",
  notesFor: "Les praticiens seulement (clé des praticiens) et le patient",
  canOpen: "Vous pouvez les ouvrir",
  cannotOpen: "Réservé à un autre rôle : votre appareil ne peut pas les ouvrir",
};

const en: AccessMessages = {
  title: "Who can open what",
  item: "Item",
  sealedFor: "Encrypted for",
  yourRole: "With your role",
  reasons: "Visit reasons",
  reasonsFor: "Every member of the practice (the practice's key) and the patient",
  notes: "Notes",
  notesFor: "Practitioners only (the practitioners' key) and the patient",
  canOpen: "You can open them",
  cannotOpen: "For another role: your device cannot open them",
};

export const accessMessages: Record<Lang, AccessMessages> = { fr, en };
