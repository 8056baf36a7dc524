// "Relatives": the add form, and edit and remove under each relative the server listed.
import { mount } from "svelte";

import { readRelativesData } from "./lib/care/island";
import RelativeActions from "./lib/care/RelativeActions.svelte";
import RelativeForm from "./lib/care/RelativeForm.svelte";

const source = document.getElementById("relatives-data");
if (source?.textContent) {
  const data = readRelativesData(JSON.parse(source.textContent));
  const { lang, relationships } = data;
  for (const relative of data.relatives) {
    const target = document.getElementById(`relative-actions-${relative.id}`);
    if (target === null) continue;
    mount(RelativeActions, { target, props: { relative, lang, relationships } });
  }
  const add = document.getElementById("relative-add");
  if (add !== null) {
    add.replaceChildren();
    mount(RelativeForm, { target: add, props: { lang, relationships, idPrefix: "add" } });
  }
}
