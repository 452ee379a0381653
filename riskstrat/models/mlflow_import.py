"""MLflow, imported and called without the warnings MLflow raises about itself.

- mlflow.types.responses (imported by mlflow.pyfunc) warns "Any type hint is inferred as
  AnyType" about its own agent types on import;
- MLflow's SQLAlchemy tracking store uses the `noload` strategy SQLAlchemy 2.1 deprecates;
- we never store an input example (it would be patient-level data), and MLflow warns about that.
Only these messages are silenced, only around MLflow calls (`quiet()`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

#: (message regex, category) of the third-party warnings silenced around MLflow calls.
MLFLOW_WARNINGS: tuple[tuple[str, type[Warning]], ...] = (
    (r".*Any type hint is inferred as AnyType", UserWarning),
    (r".*The ``noload`` loader strategy is deprecated", DeprecationWarning),
    (r".*An input example was not provided when logging the model", UserWarning),
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
