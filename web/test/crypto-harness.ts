// The crypto harness page's script (test builds only: tests/browser serves the page). It gives
// Playwright the page's side of the worker API, exactly as a page would use it, plus a JSON
// form of it: Playwright passes JSON, so bytes travel as "hex:..." strings both ways.
import { CryptoClient, CryptoFailure } from "../src/crypto/client";
import type { Api, Operation } from "../src/crypto/protocol";

type Outcome = { ok: true; result: unknown } | { ok: false; kind: string; message: string };

declare global {
  interface Window {
    colloqueCrypto: {
      call<Op extends Operation>(op: Op, params: Api[Op]["params"]): Promise<Api[Op]["result"]>;
      callJson(op: Operation, params: unknown): Promise<Outcome>;
      client: CryptoClient;
    };
  }
}

function fromJson(value: unknown): unknown {
  if (typeof value === "string" && value.startsWith("hex:")) {
    return Uint8Array.from(value.slice(4).match(/../g) ?? [], (pair) => parseInt(pair, 16));
  }
  if (Array.isArray(value)) return value.map(fromJson);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromJson(v)]));
  return value;
}

function toJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return `hex:${Array.from(value, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return value;
}

const client = new CryptoClient();
window.colloqueCrypto = {
  call: (op, params) => client.call(op, params),
  callJson: async (op, params) => {
    try {
      return { ok: true, result: toJson(await client.call(op, fromJson(params) as never)) };
    } catch (error) {
      if (error instanceof CryptoFailure) return { ok: false, kind: error.kind, message: error.message };
      throw error;
    }
  },
  client,
};
document.body.dataset.ready = "true";
