"""Colloque: medical appointments with end-to-end encrypted health data."""
