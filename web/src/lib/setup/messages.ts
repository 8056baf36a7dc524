// The practice set-up page's text, in both languages (a missing key is a type error).
import type { Lang } from "../i18n";

export interface SetupMessages {
  name: string;
  address: string;
  city: string;
  cityHint: string;
  noPlace: string;
  suggestions: (count: number) => string;
  postcode: string;
  timezone: string;
  timezoneHint: string;
  map: string;
  newTab: string;
  create: string;
  creating: string;
  pickCity: string;
  invalid: (field: string) => string;
  failed: string;
  placesFailed: string;
}

const fr: SetupMessages = {
  name: "Nom du cabinet",
  address: "Adresse (numéro et rue)",
  city: "Ville",
  cityHint: "Tapez le début du nom ou du code postal, puis choisissez dans la liste (flèches et Entrée).",
  noPlace: "Aucune ville de la liste ne commence ainsi.",
  suggestions: (count) => (count === 0 ? "Aucune suggestion" : `${count} suggestion${count > 1 ? "s" : ""}`),
  postcode: "Code postal",
  timezone: "Fuseau horaire",
  timezoneHint: "Celui de la ville choisie ; les horaires et l'agenda du cabinet s'y affichent.",
  map: "Voir l'emplacement sur OpenStreetMap",
  newTab: "(nouvel onglet)",
  create: "Créer le cabinet",
  creating: "Création…",
  pickCity: "Choisissez la ville dans la liste.",
  invalid: (field) => `Vérifiez ce champ : ${field}.`,
  failed: "Le cabinet n'a pas pu être créé. Réessayez dans un instant.",
  placesFailed: "Les villes n'ont pas pu être chargées. Réessayez.",
};

const en: SetupMessages = {
  name: "Practice name",
  address: "Address (number and street)",
  city: "City",
  cityHint: "Type the start of the name or postcode, then pick from the list (arrow keys and Enter).",
  noPlace: "No city in the list starts like this.",
  suggestions: (count) => (count === 0 ? "No suggestions" : `${count} suggestion${count > 1 ? "s" : ""}`),
  postcode: "Postcode",
  timezone: "Time zone",
  timezoneHint: "The picked city's; the practice's hours and agenda are shown in it.",
  map: "See the location on OpenStreetMap",
  newTab: "(new tab)",
  create: "Create the practice",
  creating: "Creating…",
  pickCity: "Pick the city from the list.",
  invalid: (field) => `Check this field: ${field}.`,
  failed: "The practice could not be created. Try again in a moment.",
  placesFailed: "The cities could not be loaded. Try again.",
};

export const setupMessages: Record<Lang, SetupMessages> = { fr, en };
