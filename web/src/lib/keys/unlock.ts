// Unlocking this account's keys in the worker on a page that needs them (booking, reading a
// sealed reason): a login again with the password, as the log in page does (account/flows.ts),
// since nothing secret survives a reload. The password goes only to the worker; the server gets
// the derived authentication key.
import { cryptoClient } from "../../crypto/client";
import type { UnlockedKeys } from "../../crypto/protocol";
import { completeLogin, deriveForLogin } from "../account/flows";

export async function unlockKeys(email: string, password: string): Promise<UnlockedKeys> {
  const pending = await deriveForLogin(email, password);
  try {
    return await completeLogin(pending);
  } finally {
    // Also when the login is refused: the KEK handle must not outlive the attempt.
    await cryptoClient().call("forget", { handle: pending.derived.kek });
  }
}
