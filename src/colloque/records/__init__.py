"""Sealed health data: visit reasons, notes, messages and documents, as ciphertext with key wraps."""
