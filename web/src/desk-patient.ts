// The desk's patient page: the contact details' form, and the patient's record at the practice
// (notes, messages, documents), decrypted here (the rest of the page is the server's).
import { mount } from "svelte";

import ContactForm from "./lib/desk/ContactForm.svelte";
import { readContactData } from "./lib/desk/data";
import { readPracticeRecordData } from "./lib/practice-record/data";
import PracticeRecord from "./lib/practice-record/PracticeRecord.svelte";

const target = document.getElementById("desk-contact");
const source = document.getElementById("desk-contact-data");
if (target !== null && source?.textContent) {
  const data = readContactData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(ContactForm, { target, props: { data } });
}

const recordTarget = document.getElementById("practice-record");
const recordSource = document.getElementById("practice-record-data");
if (recordTarget !== null && recordSource?.textContent) {
  const data = readPracticeRecordData(JSON.parse(recordSource.textContent));
  recordTarget.replaceChildren();
  mount(PracticeRecord, { target: recordTarget, props: { data } });
}
