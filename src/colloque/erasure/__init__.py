"""Deleting an account and disabling one: use cases that reach every area an account touches."""
