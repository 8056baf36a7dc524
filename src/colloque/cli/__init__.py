"""The `colloque` command line."""
