// The deployment's key directory pin in a page's server-rendered data, checked before use: the
// same values a Python client is configured with (colloque.web.booking_page.key_directory_pin).
import type { DirectoryPin } from "../../crypto/protocol";

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`pin: ${what} is not an object`);
  return value as Record<string, unknown>;
}

function bytes(base64: unknown, what: string): Uint8Array {
  if (typeof base64 !== "string") throw new Error(`pin: ${what} is not text`);
  return Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
}

export function readPin(value: unknown): DirectoryPin {
  const pin = record(value, "the pin");
  const witnesses = record(pin["witnesses"], "witnesses");
  const origin = pin["origin"];
  const threshold = pin["threshold"];
  if (typeof origin !== "string") throw new Error("pin: origin is not text");
  if (typeof threshold !== "number") throw new Error("pin: threshold is not a number");
  return {
    origin,
    logPublicKey: bytes(pin["logPublicKey"], "logPublicKey"),
    witnesses: Object.fromEntries(Object.entries(witnesses).map(([name, key]) => [name, bytes(key, name)])),
    threshold,
  };
}
