// The components' text. One typed object per language: a key missing from, or extra in, either
// language is a type error that fails svelte-check (scripts/lint) and the build.
export type Lang = "fr" | "en";

export interface Messages {
  visitType: string;
  previousWeek: string;
  nextWeek: string;
  weekOf: (day: string) => string;
  noSlot: string;
  loading: string;
  failed: string;
  slotsRegion: string;
  slotCount: (count: number) => string;
}

const fr: Messages = {
  visitType: "Motif",
  previousWeek: "Semaine précédente",
  nextWeek: "Semaine suivante",
  weekOf: (day) => `Semaine du ${day}`,
  noSlot: "Aucun créneau",
  loading: "Chargement des créneaux…",
  failed: "Les créneaux n'ont pas pu être chargés. Réessayez dans un instant.",
  slotsRegion: "Créneaux libres de la semaine",
  slotCount: (count) =>
    count === 0 ? "Aucun créneau libre cette semaine" : `${count} créneau${count > 1 ? "x" : ""} libre${count > 1 ? "s" : ""} cette semaine`,
};

const en: Messages = {
  visitType: "Visit type",
  previousWeek: "Previous week",
  nextWeek: "Next week",
  weekOf: (day) => `Week of ${day}`,
  noSlot: "No slot",
  loading: "Loading the slots…",
  failed: "The slots could not be loaded. Try again in a moment.",
  slotsRegion: "Free slots of the week",
  slotCount: (count) =>
    count === 0 ? "No free slot this week" : `${count} free slot${count > 1 ? "s" : ""} this week`,
};

export const messages: Record<Lang, Messages> = { fr, en };
