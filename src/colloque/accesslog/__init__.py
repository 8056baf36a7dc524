"""The audit log as people see it: a patient's access history and a practice's log for its admins."""
