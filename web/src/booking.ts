// The booking page's island. The crypto worker starts only when the patient seals (or unlocks),
// so a page opened just to look costs no libsodium download.
import { mount } from "svelte";

import Booking from "./lib/booking/Booking.svelte";
import { readBookingData } from "./lib/booking/data";

const target = document.getElementById("booking");
const source = document.getElementById("booking-data");
if (target !== null && source?.textContent) {
  const data = readBookingData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(Booking, { target, props: { data } });
}
