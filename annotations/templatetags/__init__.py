"""Template tags and filters of the critiques app."""
