"""riskstrat: risk stratification and proactive outreach for integrated care.

The package is organised by pipeline stage: registry -> features -> tasks -> models -> explain ->
outreach -> reports -> runs. Import from the stage modules; this top level stays thin.
"""

__version__ = "0.1.0"
