// Argon2id login derivation under Node with libsodium-wrappers-sumo (the browser worker's
// library): `node bench/argon2id.mjs <path to libsodium-wrappers.mjs> <rounds> [opslimit memlimit]`
// (default: the interactive cost, 3 passes, 64 MiB); bench/web_crypto.py runs it with the locked
// Node. Prints one JSON line: the milliseconds of each round.
const [, , modulePath, roundsText, opsText = "3", memText = String(64 * 1024 * 1024)] = process.argv;
const { default: sodium } = await import(modulePath);
await sodium.ready;
const rounds = Number(roundsText);
const salt = new Uint8Array(16).fill(7);
const password = new TextEncoder().encode("correct horse battery staple");
const opslimit = Number(opsText);
const memlimit = Number(memText);
const samples = [];
sodium.crypto_pwhash(32, password, salt, opslimit, memlimit, 2); // warm-up: memory growth
for (let i = 0; i < rounds; i++) {
  const start = performance.now();
  const master = sodium.crypto_pwhash(32, password, salt, opslimit, memlimit, 2);
  sodium.crypto_kdf_derive_from_key(32, 1, "CQ-login", master);
  sodium.crypto_kdf_derive_from_key(32, 2, "CQ-login", master);
  samples.push(performance.now() - start);
}
console.log(JSON.stringify({ version: sodium.sodium_version_string(), node: process.version, samples }));
