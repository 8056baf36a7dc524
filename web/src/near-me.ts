// The search form's "near me" button (home and search pages). Without JavaScript the button is
// not there and the form searches by city or postcode, as it always can.
import { enhanceNearMe, langOf } from "./lib/search/near-me";

const target = document.getElementById("near-me");
const form = target?.closest("form");
if (target && form) enhanceNearMe(target, form, langOf(document.documentElement.lang));
