// The text of the search form's "near me" button. One typed object per language, as in
// ../i18n.ts: a key missing from, or extra in, either language fails svelte-check.
import type { Lang } from "../i18n";

export interface NearMeMessages {
  nearMe: string;
  locating: string;
  refused: string;
  unavailable: string;
  failed: string;
}

const fr: NearMeMessages = {
  nearMe: "Autour de moi",
  locating: "Recherche de votre position…",
  refused:
    "Vous n'avez pas autorisé l'accès à votre position : saisissez une ville ou un code postal.",
  unavailable:
    "Ce navigateur ne donne pas de position : saisissez une ville ou un code postal.",
  failed:
    "Votre position n'a pas pu être trouvée : réessayez, ou saisissez une ville ou un code postal.",
};

const en: NearMeMessages = {
  nearMe: "Near me",
  locating: "Finding your position…",
  refused: "You did not allow access to your position: type a city or postcode instead.",
  unavailable: "This browser gives no position: type a city or postcode instead.",
  failed: "Your position could not be found: try again, or type a city or postcode.",
};

export const nearMeMessages: Record<Lang, NearMeMessages> = { fr, en };
