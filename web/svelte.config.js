import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

/** @type {import("@sveltejs/vite-plugin-svelte").SvelteConfig} */
export default {
  preprocess: vitePreprocess(),
  compilerOptions: { runes: true },
  // A compiler warning (an accessibility one, most often) fails the build, as svelte-check
  // --fail-on-warnings fails the lint: a warning nobody reads is a bug shipped.
  onwarn(warning) {
    throw new Error(`${warning.code}: ${warning.message}`);
  },
};
