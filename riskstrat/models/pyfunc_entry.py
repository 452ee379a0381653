"""Model-from-code entry point MLflow executes when it loads a riskstrat model."""

from mlflow.models import set_model

from riskstrat.models.pyfunc import RiskPyfunc

set_model(RiskPyfunc())
