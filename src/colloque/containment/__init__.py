"""Containing a stolen credential: anomaly counters, suspension, decoys (docs/containment.md)."""
