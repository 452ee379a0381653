"""OMOP CDM v5.3 / v5.4 instance -> registry extracts (`riskstrat import-omop`).

See docs/omop.md.
"""

from riskstrat.adapters.omop.convert import import_omop
from riskstrat.adapters.omop.report import OmopImportReport
from riskstrat.adapters.omop.source import OmopInputError

__all__ = ["OmopImportReport", "OmopInputError", "import_omop"]
