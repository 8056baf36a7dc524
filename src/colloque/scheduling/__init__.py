"""Agendas: practices, practitioners, visit types, opening hours and the slot engine."""
