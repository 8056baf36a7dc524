// "My appointments": cancel and reschedule mount under each appointment that may still change;
// the list itself is the server's and stays whole without JavaScript.
import { mount } from "svelte";

import AppointmentActions from "./lib/care/AppointmentActions.svelte";
import { readAppointmentsData } from "./lib/care/island";

const source = document.getElementById("appointments-data");
if (source?.textContent) {
  const data = readAppointmentsData(JSON.parse(source.textContent));
  for (const appointment of data.appointments) {
    const target = document.getElementById(`actions-${appointment.id}`);
    if (target === null) continue;
    target.replaceChildren();
    mount(AppointmentActions, { target, props: { appointment, lang: data.lang } });
  }
}
