import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { join, relative, sep } from "node:path";

import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig, type Plugin } from "vite";

const OUT_DIR = "dist";
const ASSET_MANIFEST = "asset-manifest.json";
const COMPRESSED = [".gz", ".br"];

function filesUnder(root: string, dir: string = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(root, path) : [relative(root, path).split(sep).join("/")];
  });
}

/** The published list of every served file's SHA-256 (the server reads it for Subresource
 * Integrity and serves it, so that anyone can compare what a server sends with a build). Vite's
 * own manifest under .vite/ is read by the server, never served, so it is not listed. Each file
 * is also precompressed (gzip and brotli, at their highest levels, once here rather than on
 * every request); those are encodings of a listed file, whose hash the browser checks after
 * decoding, so they are not listed either. */
function assetManifest(): Plugin {
  return {
    name: "colloque-asset-manifest",
    apply: "build",
    writeBundle(options) {
      const root = options.dir ?? OUT_DIR;
      const files: Record<string, string> = {};
      for (const path of filesUnder(root).sort()) {
        if (path === ASSET_MANIFEST || path.startsWith(".vite/")) continue;
        if (COMPRESSED.some((suffix) => path.endsWith(suffix))) continue;
        const content = readFileSync(join(root, path));
        files[path] = createHash("sha256").update(content).digest("hex");
        writeFileSync(join(root, `${path}.gz`), gzipSync(content, { level: 9 }));
        writeFileSync(
          join(root, `${path}.br`),
          brotliCompressSync(content, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
              [constants.BROTLI_PARAM_SIZE_HINT]: content.length,
            },
          }),
        );
      }
      writeFileSync(join(root, ASSET_MANIFEST), JSON.stringify({ version: 1, files }, null, 2) + "\n");
    },
  };
}

/** The crypto worker's chunk: colloque.web.static serves files with this prefix with the
 * worker's own CSP (WebAssembly allowed, no network), which no other script gets. */
const CRYPTO_WORKER = "assets/crypto-worker-[hash].js";

// `vite build --mode test` (scripts/web-build --test) builds into dist-test/ with the crypto
// test hooks on and the harness page's script; the production build has neither.
export default defineConfig(({ mode }) => {
  const testBuild = mode === "test";
  return {
  plugins: [svelte(), assetManifest()],
  define: { __CRYPTO_TEST_HOOKS__: JSON.stringify(testBuild) },
  worker: {
    format: "es" as const,
    rollupOptions: { output: { entryFileNames: CRYPTO_WORKER, chunkFileNames: "assets/crypto-worker-[name]-[hash].js" } },
  },
  build: {
    outDir: testBuild ? "dist-test" : OUT_DIR,
    emptyOutDir: true,
    manifest: true,
    target: "es2022",
    // One file per entry: nothing for a preload polyfill to do.
    modulePreload: { polyfill: false },
    rollupOptions: {
      // Keep the crypto client's exports: pages import it by its entry.
      preserveEntrySignatures: "exports-only" as const,
      input: {
        pages: "src/pages.css",
        "slot-picker": "src/slot-picker.ts",
        "near-me": "src/near-me.ts",
        appointments: "src/appointments.ts",
        relatives: "src/relatives.ts",
        notifications: "src/notifications.ts",
        records: "src/records.ts",
        settings: "src/settings.ts",
        "time-off": "src/time-off.ts",
        login: "src/login.ts",
        signup: "src/signup.ts",
        account: "src/account.ts",
        "new-practice": "src/new-practice.ts",
        booking: "src/booking.ts",
        desk: "src/desk.ts",
        "desk-patient": "src/desk-patient.ts",
        agenda: "src/agenda.ts",
        members: "src/members.ts",
        outbox: "src/outbox.ts",
        // The pages that seal and open (booking, messages) load it on demand; an entry of its
        // own until they exist, so that the worker ships and is checked with every build.
        "crypto-client": "src/crypto/client.ts",
        ...(testBuild ? { "crypto-harness": "test/crypto-harness.ts" } : {}),
      },
    },
  },
  };
});
