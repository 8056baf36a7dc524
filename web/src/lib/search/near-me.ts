// "Near me" on the search form: only when the person clicks it does the page ask the browser for
// their position; it then fills the form's coordinates and submits the form, sorted by distance.
// Refused or unavailable, it says so and the form works as before, by city or postcode.
import type { Lang } from "../i18n";
import { nearMeMessages } from "./messages";

/** Two decimals of a degree is about 1 km (1.1 km of latitude, less of longitude). The
 * position leaves the page in the search's URL, so it is cut to the area someone searches
 * from, never the building they are in: where a person is looking for a doctor from is
 * personal, and a search needs no more than this to rank practices kilometres apart. */
export const COORDINATE_DECIMALS = 2;

export function coarse(degrees: number): string {
  const rounded = degrees.toFixed(COORDINATE_DECIMALS);
  // toFixed keeps the sign of a value that rounds to zero ("-0.00"): the same place as "0.00".
  return Number(rounded) === 0 ? (0).toFixed(COORDINATE_DECIMALS) : rounded;
}

function hiddenField(form: HTMLFormElement, name: string): HTMLInputElement {
  const existing = form.querySelector<HTMLInputElement>(`input[type=hidden][name=${name}]`);
  if (existing !== null) return existing;
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = name;
  form.append(input);
  return input;
}

export function langOf(value: string): Lang {
  return value === "en" ? "en" : "fr";
}

export function enhanceNearMe(target: HTMLElement, form: HTMLFormElement, lang: Lang): void {
  const text = nearMeMessages[lang];
  const button = document.createElement("button");
  button.type = "button";
  button.className = "near-me-button";
  button.textContent = text.nearMe;
  const status = document.createElement("p");
  status.className = "near-me-status";
  status.setAttribute("role", "status");
  target.replaceChildren(button, status);

  const say = (message: string, failed: boolean): void => {
    status.textContent = message;
    status.classList.toggle("error", failed);
  };

  button.addEventListener("click", () => {
    if (!("geolocation" in navigator)) {
      say(text.unavailable, true);
      return;
    }
    button.disabled = true;
    say(text.locating, false);
    navigator.geolocation.getCurrentPosition(
      (position) => {
        hiddenField(form, "latitude").value = coarse(position.coords.latitude);
        hiddenField(form, "longitude").value = coarse(position.coords.longitude);
        // The position replaces the typed place: a city and a point far from it find nobody.
        const where = form.querySelector<HTMLInputElement>("input[name=where]");
        if (where !== null) where.value = "";
        const byDistance = form.querySelector<HTMLInputElement>("input[name=sort][value=distance]");
        if (byDistance !== null) byDistance.checked = true;
        form.requestSubmit();
      },
      (error) => {
        button.disabled = false;
        say(error.code === error.PERMISSION_DENIED ? text.refused : text.failed, true);
      },
      // A coarse, possibly cached position is all a search needs, and the quickest to get.
      { enableHighAccuracy: false, timeout: 15_000, maximumAge: 600_000 },
    );
  });
}
