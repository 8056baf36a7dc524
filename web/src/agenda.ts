// The practice agenda's island: mounts lib/agenda/Agenda.svelte into the server's shell.
import { mount } from "svelte";

import Agenda from "./lib/agenda/Agenda.svelte";
import { readAgendaData } from "./lib/agenda/data";

const target = document.getElementById("agenda");
const source = document.getElementById("agenda-data");
if (target !== null && source?.textContent) {
  const data = readAgendaData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(Agenda, { target, props: { data } });
}
