"""Delivery of the outbox: the worker that claims due messages, renders them from current data,
finds their recipient from the appointment's own patient, sends them and records the result
(docs/notifications.md)."""
