"""Registry: the data contract, validated ingest of extracts, and the embedded DuckDB store."""
