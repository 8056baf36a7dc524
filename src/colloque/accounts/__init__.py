"""Accounts, access tokens and practice memberships."""
