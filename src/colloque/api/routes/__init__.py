"""HTTP routes: each module parses and validates, calls one service, shapes the answer."""
