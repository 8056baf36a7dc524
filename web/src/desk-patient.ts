// The desk's patient page: the contact details' form (the rest of the page is the server's).
import { mount } from "svelte";

import ContactForm from "./lib/desk/ContactForm.svelte";
import { readContactData } from "./lib/desk/data";

const target = document.getElementById("desk-contact");
const source = document.getElementById("desk-contact-data");
if (target !== null && source?.textContent) {
  const data = readContactData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(ContactForm, { target, props: { data } });
}
