"""Accounts: sign-up, login without the password reaching the server, sessions, MFA, throttling,
recovery, invitations to practices and deletion (docs/accounts.md)."""
