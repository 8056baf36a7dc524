"""Notifications: the transactional outbox that mail and SMS senders drain."""
