"""Appointments: booking, cancelling, rescheduling and their history."""
