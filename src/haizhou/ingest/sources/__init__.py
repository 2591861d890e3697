"""ingest/sources."""
