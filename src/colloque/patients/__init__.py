"""Patients: an account holder and the relatives they manage."""
