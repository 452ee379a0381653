"""Synthea CSV export -> registry extracts (`riskstrat import-synthea`). See docs/synthea.md."""

from riskstrat.adapters.synthea.convert import import_synthea
from riskstrat.adapters.synthea.report import ImportReport, TableCounts
from riskstrat.adapters.synthea.source import SyntheaInputError

__all__ = ["ImportReport", "SyntheaInputError", "TableCounts", "import_synthea"]
