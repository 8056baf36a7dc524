"""Waitlists: patients waiting for a slot to free up, and the holds offered to them."""
