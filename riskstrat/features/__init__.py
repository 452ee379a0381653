"""Point-in-time features: the SQL + YAML groups in features/, run against an index."""

from riskstrat.features.catalogue import Catalogue, FeatureGroup, FeatureSpec, load_catalogue
from riskstrat.features.docs import catalogue_markdown, write_catalogue_markdown
from riskstrat.features.runner import build_features, decode

__all__ = [
    "Catalogue", "FeatureGroup", "FeatureSpec", "build_features", "catalogue_markdown", "decode",
    "load_catalogue", "write_catalogue_markdown",
]  # fmt: skip
