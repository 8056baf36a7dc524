// The messages and documents page's text, in both languages; a key missing from either is a
// type error.
import type { Standing } from "../../crypto/protocol";
import type { Lang } from "../i18n";

export interface RecordMessages {
  unlockTitle: string;
  unlockHint: string;
  messages: string;
  noMessage: string;
  author: (standing: Standing, practice: string) => string;
  refused: string;
  write: string;
  writeHint: string;
  send: string;
  sending: string;
  sent: string;
  sendFailed: string;
  documents: string;
  noDocument: string;
  file: string;
  fileHint: (megabytes: number) => string;
  tooLarge: (megabytes: number) => string;
  nameTooLong: string;
  upload: string;
  uploading: string;
  uploaded: string;
  uploadFailed: string;
  progress: string;
  phase: { encrypting: string; sending: string; receiving: string };
  decrypt: (name: string) => string;
  decrypting: string;
  open: (name: string) => string;
  save: (name: string) => string;
  downloadFailed: string;
  openHint: string;
}

const fr: RecordMessages = {
  unlockTitle: "Déverrouiller vos clés",
  unlockHint: "Vos messages et documents sont chiffrés avec vos clés, qui ne quittent pas votre appareil : confirmez votre mot de passe pour les ouvrir.",
  messages: "Messages",
  noMessage: "Aucun message pour l'instant.",
  author: (standing, practice) => (standing === "holder" ? "Vous" : standing === "member" ? practice : `${practice} (ancien membre)`),
  refused: "Contenu refusé",
  write: "Votre message",
  writeHint: "Chiffré sur votre appareil pour vous et le cabinet. Pour une urgence, appelez le 15.",
  send: "Envoyer le message",
  sending: "Envoi…",
  sent: "Message envoyé.",
  sendFailed: "Le message n'a pas pu être envoyé.",
  documents: "Documents",
  noDocument: "Aucun document pour l'instant.",
  file: "Fichier à partager avec le cabinet",
  fileHint: (mb) => `Jusqu'à ${mb} Mo : le fichier est chiffré sur votre appareil avant l'envoi, et un document chiffré ne peut pas dépasser cette taille.`,
  tooLarge: (mb) => `Ce fichier dépasse ${mb} Mo, la taille maximale d'un document chiffré. Réduisez-le (par exemple en le numérisant en moindre résolution).`,
  nameTooLong: "Le nom de ce fichier est trop long : renommez-le avant de l'envoyer.",
  upload: "Chiffrer et envoyer",
  uploading: "Envoi…",
  uploaded: "Document envoyé.",
  uploadFailed: "Le document n'a pas pu être envoyé.",
  progress: "Progression",
  phase: { encrypting: "Chiffrement", sending: "Envoi", receiving: "Réception et déchiffrement" },
  decrypt: (name) => `Déchiffrer ${name}`,
  decrypting: "Déchiffrement…",
  open: (name) => `Ouvrir ${name}`,
  save: (name) => `Enregistrer ${name}`,
  downloadFailed: "Ce document n'a pas pu être déchiffré : il a été modifié, tronqué ou n'est pas celui que son auteur a signé.",
  openHint: "Les PDF, images et textes s'ouvrent dans un nouvel onglet ; les autres fichiers s'enregistrent.",
};

const en: RecordMessages = {
  unlockTitle: "Unlock your keys",
  unlockHint: "Your messages and documents are encrypted with your keys, which never leave your device: confirm your password to open them.",
  messages: "Messages",
  noMessage: "No message yet.",
  author: (standing, practice) => (standing === "holder" ? "You" : standing === "member" ? practice : `${practice} (former member)`),
  refused: "Content refused",
  write: "Your message",
  writeHint: "Encrypted on your device for you and the practice. In an emergency, call 112.",
  send: "Send the message",
  sending: "Sending…",
  sent: "Message sent.",
  sendFailed: "The message could not be sent.",
  documents: "Documents",
  noDocument: "No document yet.",
  file: "File to share with the practice",
  fileHint: (mb) => `Up to ${mb} MB: the file is encrypted on your device before it is sent, and an encrypted document cannot be larger.`,
  tooLarge: (mb) => `This file is over ${mb} MB, the largest an encrypted document can be. Make it smaller (for instance, scan it at a lower resolution).`,
  nameTooLong: "This file's name is too long: rename it before sending it.",
  upload: "Encrypt and send",
  uploading: "Sending…",
  uploaded: "Document sent.",
  uploadFailed: "The document could not be sent.",
  progress: "Progress",
  phase: { encrypting: "Encrypting", sending: "Sending", receiving: "Receiving and decrypting" },
  decrypt: (name) => `Decrypt ${name}`,
  decrypting: "Decrypting…",
  open: (name) => `Open ${name}`,
  save: (name) => `Save ${name}`,
  downloadFailed: "This document could not be decrypted: it was changed, cut short, or is not the one its author signed.",
  openHint: "PDFs, images and text open in a new tab; other files are saved.",
};

export const recordMessages: Record<Lang, RecordMessages> = { fr, en };
