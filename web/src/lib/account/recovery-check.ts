// The recovery code is shown once; before the account exists the person re-types two of its
// groups, chosen at random, so that "I saved it" is a fact rather than a click.
export function pickGroups(groupCount: number, random: (bound: number) => number = randomBelow): [number, number] {
  const first = random(groupCount);
  let second = random(groupCount - 1);
  if (second >= first) second += 1;
  return first < second ? [first, second] : [second, first];
}

function randomBelow(bound: number): number {
  // Rejection sampling: no modulo bias, however small the bound.
  const limit = Math.floor(0x1_0000_0000 / bound) * bound;
  const word = new Uint32Array(1);
  do crypto.getRandomValues(word);
  while ((word[0] ?? 0) >= limit);
  return (word[0] ?? 0) % bound;
}

/** Typed the way people copy codes: any case, with stray spaces or dashes. */
export function groupMatches(code: string, index: number, typed: string): boolean {
  const expected = code.split("-")[index];
  return expected !== undefined && typed.replace(/[\s-]/g, "").toUpperCase() === expected.toUpperCase();
}
