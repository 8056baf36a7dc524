"""A key directory witness: a separate service that cosigns checkpoints that extend the last one it
cosigned, and nothing else (C2SP tlog-witness; docs/operations.md, "Witnesses")."""
