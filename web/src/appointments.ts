// "My appointments": cancel and reschedule mount under each appointment that may still change;
// the sealed reasons open in the browser once the holder unlocks their keys, each into its slot;
// each waitlist offer gets Accept and Decline, each waitlist entry Leave.
// The list itself is the server's and stays whole without JavaScript.
import { mount } from "svelte";

import AppointmentActions from "./lib/care/AppointmentActions.svelte";
import { readAppointmentsData } from "./lib/care/island";
import LeaveWaitlist from "./lib/care/LeaveWaitlist.svelte";
import OfferDecision from "./lib/care/OfferDecision.svelte";
import ReasonSlot from "./lib/care/ReasonSlot.svelte";
import SealedReasons from "./lib/care/SealedReasons.svelte";

const source = document.getElementById("appointments-data");
if (source?.textContent) {
  const data = readAppointmentsData(JSON.parse(source.textContent));
  for (const appointment of data.appointments) {
    const target = document.getElementById(`actions-${appointment.id}`);
    if (target === null) continue;
    target.replaceChildren();
    mount(AppointmentActions, { target, props: { appointment, lang: data.lang } });
  }
  for (const sealed of data.sealed) {
    const target = document.getElementById(`reason-${sealed.id}`);
    if (target === null) continue;
    const locked = target.textContent.trim();
    target.replaceChildren();
    mount(ReasonSlot, { target, props: { id: sealed.id, lang: data.lang, visitTypes: data.visitTypes, locked } });
  }
  for (const offer of data.offers) {
    const target = document.getElementById(`offer-actions-${offer.id}`);
    if (target === null) continue;
    target.replaceChildren();
    mount(OfferDecision, { target, props: { offer, lang: data.lang, pin: data.pin, email: data.email } });
  }
  for (const entry of data.entries) {
    const target = document.getElementById(`entry-actions-${entry.id}`);
    if (target === null) continue;
    mount(LeaveWaitlist, { target, props: { entry, lang: data.lang } });
  }
  const unlock = document.getElementById("reasons-unlock");
  if (unlock !== null && data.sealed.length > 0) {
    unlock.replaceChildren();
    mount(SealedReasons, { target: unlock, props: { data } });
  }
}
