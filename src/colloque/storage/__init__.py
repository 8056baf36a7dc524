"""Database access: engine construction, the declarative base and portable column types."""
