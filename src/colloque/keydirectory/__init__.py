"""The key directory: every public key binding in an append-only Merkle log with signed checkpoints."""
