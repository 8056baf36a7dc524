"""A personal data breach's response: its record and timeline, and the report of what was touched."""
