/** Defined by vite.config.ts: true in test builds (scripts/web-build --test) only. */
declare const __CRYPTO_TEST_HOOKS__: boolean;
