"""Third-party sources -> registry extracts: Synthea CSV (`synthea/`), OMOP CDM (`omop/`)."""
