"""MLflow, imported and called without the warnings MLflow raises about itself.

- mlflow.types.responses (imported by mlflow.pyfunc) warns "Any type hint is inferred as
  AnyType" about its own agent types on import;
- MLflow's SQLAlchemy tracking store uses the `noload` strategy SQLAlchemy 2.1 deprecates;
- we never store an input example (it would be patient-level data), and MLflow warns about that;
- `mlflow.data.from_pandas` calls a pandas method with positional arguments pandas 3 deprecates;
- a signature with integer columns gets a "Hint" that integers cannot hold missing values (a
  user's integer column is served as an integer column, as it was trained).
Only these messages are silenced, only around MLflow calls (`quiet()`). MLflow's "Downloading
artifacts" progress bars are switched off for riskstrat's processes
(MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR, unless the user set it): riskstrat shows its own progress.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pandas.errors

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
#: pandas 3's deprecation category (a plain DeprecationWarning before pandas 3).
Pandas4Warning = getattr(pandas.errors, "Pandas4Warning", DeprecationWarning)

#: (message regex, category) of the third-party warnings silenced around MLflow calls.
MLFLOW_WARNINGS: tuple[tuple[str, type[Warning]], ...] = (
    (r".*Any type hint is inferred as AnyType", UserWarning),
    (r".*The ``noload`` loader strategy is deprecated", DeprecationWarning),
    (r".*An input example was not provided when logging the model", UserWarning),
    (r".*all arguments of all will be keyword-only", Pandas4Warning),
    (r".*Hint: Inferred schema contains integer column", UserWarning),
)


@contextmanager
def quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        for message, category in MLFLOW_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


with quiet():
    import mlflow
    import mlflow.pyfunc

__all__ = ["mlflow", "quiet"]
