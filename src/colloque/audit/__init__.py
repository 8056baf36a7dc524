"""The audit log: who touched which personal data, when."""
