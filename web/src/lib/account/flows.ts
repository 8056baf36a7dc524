// The account flows of colloque.client.accounts, in the browser: the same requests, the same
// crypto (in the worker). The password goes to the worker only; the page gets back the
// authentication key (sent to the server) and opaque handles.
import { cryptoClient } from "../../crypto/client";
import type { KekHandle, UnlockedKeys } from "../../crypto/protocol";
import type { components } from "../api/schema";
import { ApiFailure, ok, sessionApi } from "../api/session";
import { fromBase64Url, toBase64Url } from "../base64url";

interface Derived {
  authKey: string;
  kek: KekHandle;
}

async function derive(secret: string, kdfParams: string): Promise<Derived> {
  const { authKey, kek } = await cryptoClient().call("deriveLoginKeys", { password: secret, kdfParams: fromBase64Url(kdfParams) });
  return { authKey: toBase64Url(authKey), kek };
}

function forget(kek: KekHandle): Promise<null> {
  return cryptoClient().call("forget", { handle: kek });
}

async function prelogin(email: string): Promise<{ kdf_params: string; recovery_kdf_params: string }> {
  return ok(sessionApi.POST("/api/v1/auth/prelogin", { body: { email } }));
}

// Log in -------------------------------------------------------------------------------------

/** The password's keys, kept between a first try and the TOTP step, so that Argon2id runs once. */
export interface PendingLogin {
  email: string;
  derived: Derived;
}

export async function deriveForLogin(email: string, password: string): Promise<PendingLogin> {
  const params = await prelogin(email);
  return { email, derived: await derive(password, params.kdf_params) };
}

/** What the second-factor field holds: six digits are a TOTP code, anything else one of the
 * account's MFA recovery codes (the server ignores their spaces and hyphens). */
function secondFactor(code: string): { totp: string | null; recovery_code: string | null } {
  const compact = code.replace(/[\s-]/g, "");
  return /^[0-9]{6}$/.test(compact) ? { totp: compact, recovery_code: null } : { totp: null, recovery_code: code.trim() };
}

/** Whether the login stopped at the second factor: asked for (`mfa-required`) or the code given
 * refused. The attempt stays open for a code; anything else ends it. */
export function awaitsSecondFactor(failure: unknown): failure is ApiFailure {
  return failure instanceof ApiFailure && failure.status !== 429 && (failure.field === "totp" || failure.field === "recovery_code");
}

/** Ends an attempt left at the second factor (the person went back to the password step, or
 * the form went away): the KEK handle must not outlive it. */
export function abandonLogin(pending: PendingLogin): Promise<null> {
  return forget(pending.derived.kek);
}

/** The login request with a cookie session, then the keys unlocked in the worker. When it
 * throws with `awaitsSecondFactor`, call again with the code (TOTP or MFA recovery code); the KEK
 * handle is kept for that and forgotten on every other path. */
export async function completeLogin(pending: PendingLogin, code?: string): Promise<UnlockedKeys> {
  let out;
  try {
    out = await ok(
      sessionApi.POST("/api/v1/auth/login", {
        body: {
          email: pending.email,
          auth_key: pending.derived.authKey,
          ...(code ? secondFactor(code) : { totp: null, recovery_code: null }),
          session: "cookie",
        },
      }),
    );
  } catch (failure) {
    if (!awaitsSecondFactor(failure)) await abandonLogin(pending);
    throw failure;
  }
  try {
    return await cryptoClient().call("unlockWithKek", {
      kek: pending.derived.kek,
      userId: out.account_id,
      sealedByPassword: fromBase64Url(out.keys.sealed_by_password),
    });
  } finally {
    await abandonLogin(pending);
  }
}

export async function logOut(): Promise<void> {
  await ok(sessionApi.POST("/api/v1/auth/logout"));
  cryptoClient().terminate();
}

/** Whether the account receives reminders; a reminder's unsubscribe link turns them off. */
export async function reminders(): Promise<boolean> {
  return (await ok(sessionApi.GET("/api/v1/me/reminders"))).enabled;
}

export async function setReminders(enabled: boolean): Promise<boolean> {
  return (await ok(sessionApi.PUT("/api/v1/me/reminders", { body: { enabled } }))).enabled;
}

/** Ends every other session of the account (other browsers, API clients, issued tokens); this
 * one stays. Returns how many ended. */
export async function logOutOthers(): Promise<number> {
  return (await ok(sessionApi.POST("/api/v1/auth/logout/others"))).ended_sessions;
}

export type OpenSession = components["schemas"]["OpenSessionOut"];

/** The account's open sessions (this one first): software, network prefix, when opened and used. */
export async function listSessions(): Promise<OpenSession[]> {
  return (await ok(sessionApi.GET("/api/v1/me/sessions"))).sessions;
}

/** Ends one of the account's sessions: its next request is refused. */
export async function endSession(sessionId: string): Promise<void> {
  await ok(sessionApi.DELETE("/api/v1/me/sessions/{session_id}", { params: { path: { session_id: sessionId } } }));
}

// Sign up ------------------------------------------------------------------------------------

export async function startSignup(email: string): Promise<string> {
  return (await ok(sessionApi.POST("/api/v1/auth/signup", { body: { email } }))).signup_id;
}

/** Everything signup/complete needs, made in the worker; nothing is sent until the person has
 * confirmed that they saved the recovery code. */
export interface PreparedSignup {
  recoveryCode: string;
  /** Creates the account and opens its session; the keys made at verification stay unlocked in
   * the worker and are returned, so that a page that signs up inline seals at once (no second
   * Argon2id for the same password). */
  complete: (displayName: string) => Promise<UnlockedKeys>;
  /** The sign-up was left before `complete` (the form went away): the keys go with it. */
  discard: () => Promise<null>;
}

export async function verifyAndMakeKeys(signupId: string, code: string, password: string): Promise<PreparedSignup> {
  const ticket = await ok(sessionApi.POST("/api/v1/auth/signup/verify", { body: { signup_id: signupId, code } }));
  const login = await derive(password, ticket.kdf_params);
  const created = await cryptoClient().call("createKeyBundle", {
    userId: ticket.account_id,
    kek: login.kek,
    recoveryKdfParams: fromBase64Url(ticket.recovery_kdf_params),
  });
  await forget(login.kek);
  const recovery = await derive(created.recoveryCode, ticket.recovery_kdf_params);
  await forget(recovery.kek);
  const bundle = created.bundle;
  return {
    recoveryCode: created.recoveryCode,
    discard: () => cryptoClient().call("forget", { handle: created.unlocked.keys }),
    complete: async (displayName) => {
      await ok(
        sessionApi.POST("/api/v1/auth/signup/complete", {
          body: {
            signup_token: ticket.signup_token,
            display_name: displayName,
            auth_key: login.authKey,
            kdf_params: ticket.kdf_params,
            recovery_auth_key: recovery.authKey,
            recovery_kdf_params: ticket.recovery_kdf_params,
            encryption_public: toBase64Url(bundle.encryptionPublic),
            signing_public: toBase64Url(bundle.signingPublic),
            sealed_by_password: toBase64Url(bundle.sealedByPassword),
            sealed_by_recovery: toBase64Url(bundle.sealedByRecovery),
            session: "cookie",
          },
        }),
      );
      return created.unlocked;
    },
  };
}

// Password change ----------------------------------------------------------------------------

/** As colloque.client's change_password: the keys unlocked with the old KEK (which proves the
 * old password before anything is sent) and sealed under the new one; every other session ends
 * and this one gets new cookies. */
export async function changePassword(args: {
  email: string;
  accountId: string;
  sealedByPassword: string;
  oldPassword: string;
  newPassword: string;
}): Promise<string> {
  const params = await prelogin(args.email);
  const old = await derive(args.oldPassword, params.kdf_params);
  let unlocked: UnlockedKeys;
  try {
    unlocked = await cryptoClient().call("unlockWithKek", {
      kek: old.kek,
      userId: args.accountId,
      sealedByPassword: fromBase64Url(args.sealedByPassword),
    });
  } finally {
    await forget(old.kek);
  }
  const fresh = (await ok(sessionApi.POST("/api/v1/auth/password/params"))).kdf_params;
  const next = await derive(args.newPassword, fresh);
  const { sealedByPassword } = await cryptoClient().call("sealForKek", { keys: unlocked.keys, kek: next.kek });
  await forget(next.kek);
  await cryptoClient().call("forget", { handle: unlocked.keys });
  await ok(
    sessionApi.POST("/api/v1/auth/password", {
      body: {
        old_auth_key: old.authKey,
        new_auth_key: next.authKey,
        new_kdf_params: fresh,
        new_sealed_by_password: toBase64Url(sealedByPassword),
      },
    }),
  );
  return toBase64Url(sealedByPassword);
}

// TOTP ---------------------------------------------------------------------------------------

/** Sensitive changes need a fresh proof of the password in this session (5 minutes). */
export async function reauthenticate(email: string, password: string, totp?: string): Promise<void> {
  const params = await prelogin(email);
  const proof = await derive(password, params.kdf_params);
  await forget(proof.kek);
  await ok(sessionApi.POST("/api/v1/auth/reauth", { body: { auth_key: proof.authKey, totp: totp ?? null, recovery_code: null } }));
}

export async function beginTotp(): Promise<{ secret: string; uri: string }> {
  return ok(sessionApi.POST("/api/v1/me/mfa/totp"));
}

export async function confirmTotp(code: string): Promise<string[]> {
  return (await ok(sessionApi.POST("/api/v1/me/mfa/totp/confirm", { body: { code } }))).recovery_codes;
}

export async function turnOffTotp(): Promise<void> {
  await ok(sessionApi.DELETE("/api/v1/me/mfa/totp"));
}

// Recovery code renewal ----------------------------------------------------------------------

export interface RecoveryStatus {
  createdAt: string;
  usedAt: string | null;
}

/** A new recovery code, made and sealed in the worker; nothing is sent until the person has
 * confirmed they saved it (`save`), as at sign-up. */
export interface PreparedRecoveryCode {
  recoveryCode: string;
  save: () => Promise<RecoveryStatus>;
}

/** As colloque.client's renew_recovery_code: the keys unlocked with the password (which proves
 * it locally before anything is sent), a fresh proof of it in this session (the server asks for
 * one from the last 5 minutes), then the same keys sealed under a new code in the worker. */
export async function prepareRecoveryCode(args: {
  email: string;
  accountId: string;
  sealedByPassword: string;
  password: string;
  totp?: string;
}): Promise<PreparedRecoveryCode> {
  const params = await prelogin(args.email);
  const proof = await derive(args.password, params.kdf_params);
  let unlocked: UnlockedKeys;
  try {
    unlocked = await cryptoClient().call("unlockWithKek", {
      kek: proof.kek,
      userId: args.accountId,
      sealedByPassword: fromBase64Url(args.sealedByPassword),
    });
  } finally {
    await forget(proof.kek);
  }
  try {
    await ok(sessionApi.POST("/api/v1/auth/reauth", { body: { auth_key: proof.authKey, totp: args.totp ?? null, recovery_code: null } }));
    const fresh = (await ok(sessionApi.POST("/api/v1/auth/password/params"))).kdf_params;
    const made = await cryptoClient().call("newRecoveryEnvelope", { keys: unlocked.keys, recoveryKdfParams: fromBase64Url(fresh) });
    const recovery = await derive(made.recoveryCode, fresh);
    await forget(recovery.kek);
    return {
      recoveryCode: made.recoveryCode,
      save: async () => {
        const status = await ok(
          sessionApi.PUT("/api/v1/me/recovery-code", {
            body: { recovery_auth_key: recovery.authKey, recovery_kdf_params: fresh, sealed_by_recovery: toBase64Url(made.sealedByRecovery) },
          }),
        );
        return { createdAt: status.created_at, usedAt: status.used_at ?? null };
      },
    };
  } finally {
    await cryptoClient().call("forget", { handle: unlocked.keys });
  }
}
