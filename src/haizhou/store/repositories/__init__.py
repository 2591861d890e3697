"""store/repositories."""
