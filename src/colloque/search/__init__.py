"""Finding practitioners, sorted by their earliest free slot or by distance."""
