// Test builds only (vite build --mode test defines __CRYPTO_TEST_HOOKS__ as true): in the
// production build the constant is false, this object is empty, and the bundler drops the
// vector runner and its deterministic-randomness paths from the worker chunk (a browser test
// checks the shipped chunk for it).
import type { Api } from "../protocol";
import { rawOpenReasons } from "./rawbench";
import { selfTest } from "./selftest";

export const testHandlers: {
  selfTest?: (params: Api["selfTest"]["params"]) => Api["selfTest"]["result"];
  rawOpenReasons?: (params: Api["rawOpenReasons"]["params"]) => Api["rawOpenReasons"]["result"];
} = __CRYPTO_TEST_HOOKS__ ? { selfTest, rawOpenReasons } : {};
