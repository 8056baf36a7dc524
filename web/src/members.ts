// The practice's members page island: mounts lib/members/Members.svelte into the server's shell.
import { mount } from "svelte";

import { readMembersData } from "./lib/members/data";
import Members from "./lib/members/Members.svelte";

const target = document.getElementById("members");
const source = document.getElementById("members-data");
if (target !== null && source?.textContent) {
  const data = readMembersData(JSON.parse(source.textContent));
  target.replaceChildren();
  mount(Members, { target, props: { data } });
}
