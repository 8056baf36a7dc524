// Unlocking the signed-in account's keys in the crypto worker, for any page that seals or opens
// (booking, documents and messages). The keys are sealed under the password and nothing secret
// survives a reload, so the page logs in again (prelogin, Argon2id in the worker, a cookie
// session), then the worker opens the keys with the KEK and forgets the KEK. The password goes
// only to the worker; the server gets the derived authentication key.
import type { CryptoClient } from "../../crypto/client";
import type { UnlockedKeys } from "../../crypto/protocol";
import { fromBase64Url, toBase64Url } from "../base64url";
import { ok, sessionApi } from "../api/session";

export async function unlock(crypto: CryptoClient, email: string, password: string): Promise<UnlockedKeys> {
  const pre = await ok(sessionApi.POST("/api/v1/auth/prelogin", { body: { email } }));
  const derived = await crypto.call("deriveLoginKeys", { password, kdfParams: fromBase64Url(pre.kdf_params) });
  try {
    const login = await ok(sessionApi.POST("/api/v1/auth/login", { body: { email, auth_key: toBase64Url(derived.authKey), session: "cookie" } }));
    return await crypto.call("unlockWithKek", {
      kek: derived.kek,
      userId: login.account_id,
      sealedByPassword: fromBase64Url(login.keys.sealed_by_password),
    });
  } finally {
    await crypto.call("forget", { handle: derived.kek });
  }
}
