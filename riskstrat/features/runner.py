"""Build the feature matrix: run every feature group's SQL against the index and check it.

One set-based query per group (GROUP BY over joins to `index_rows`), results joined on row
position, checked against the group's YAML (columns and data tests), categoricals encoded with
the versioned codebook, every feature float64.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from riskstrat.features.catalogue import Catalogue, FeatureGroup, FeatureSpec, load_catalogue
from riskstrat.logs import log_event, timed
from riskstrat.registry.contract import TABLES, ddl
from riskstrat.tasks.relation import index_keys, index_relation
from riskstrat.tasks.spec import TaskSpec, resolve_task

GROUP_COLUMNS_MISMATCH = (
    "feature group {group!r}: {sql} returns columns {extra} not in its YAML and lacks {missing}"
)
GROUP_ROWS_MISMATCH = "feature group {group!r}: {rows} rows returned for {expected} index rows"
TEST_FAILED = "feature group {group!r}, column {column!r}, test {test!r}: {detail}"
MISSING_TABLE = "store has no table {table!r}, which the feature SQL reads"
PRACTICE_SQL = """
SELECT i.row_id, p.practice_code
FROM index_rows AS i
LEFT JOIN patients AS p ON p.patient_id = i.patient_id
ORDER BY i.row_id
"""


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Optional contract tables the store lacks become empty temp tables; required ones fail."""
    present = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    for table in TABLES.values():
        if table.name in present or table.identifiable:
            continue
        if table.required:
            raise ValueError(MISSING_TABLE.format(table=table.name))
        con.execute(ddl(table).replace("CREATE TABLE", "CREATE TEMP TABLE", 1))


def check_values(values: pd.Series, spec: FeatureSpec) -> None:
    """The YAML data tests of one column (after encoding); raise naming group, column, test."""
    tests = spec.tests

    def fail(test: str, detail: str) -> None:
        raise ValueError(
            TEST_FAILED.format(group=spec.group, column=spec.column, test=test, detail=detail)
        )

    if tests.not_null and (nulls := int(values.isna().sum())):
        fail("not_null", f"{nulls} null value(s)")
    if tests.min is not None and (below := int((values < tests.min).sum())):
        fail("min", f"{below} value(s) below {tests.min:g} (lowest {values.min():g})")
    if tests.max is not None and (above := int((values > tests.max).sum())):
        fail("max", f"{above} value(s) above {tests.max:g} (highest {values.max():g})")


def encode(values: pd.Series, spec: FeatureSpec) -> np.ndarray:
    """float64 values; a categorical's code is its position in the codebook, unknown -> NaN."""
    if spec.categories is not None:
        codes = {label: float(i) for i, label in enumerate(spec.categories)}
        return values.map(codes).to_numpy(dtype="float64", na_value=np.nan)
    return values.to_numpy(dtype="float64", na_value=np.nan)


def run_group(
    con: duckdb.DuckDBPyConnection, group: FeatureGroup, *, n: int, check: bool = True
) -> dict:
    """One group's query over `index_rows`: encoded (and checked) columns keyed by name."""
    with timed("features.group", group=group.name) as extra:
        frame = con.execute(f"SELECT * FROM ({group.sql}) AS g ORDER BY row_id").df()
        extra["rows"] = len(frame)
    returned = [c for c in frame.columns if c != "row_id"]
    if set(returned) != set(group.columns):
        raise ValueError(
            GROUP_COLUMNS_MISMATCH.format(
                group=group.name,
                sql=group.sql_path.name,
                extra=sorted(set(returned) - set(group.columns)),
                missing=sorted(set(group.columns) - set(returned)),
            )
        )
    if len(frame) != n or not np.array_equal(frame["row_id"].to_numpy(), np.arange(n)):
        raise ValueError(GROUP_ROWS_MISMATCH.format(group=group.name, rows=len(frame), expected=n))
    out = {}
    for spec in group.features:
        values = encode(frame[spec.column], spec)
        if check:
            check_values(pd.Series(values, copy=False), spec)
        out[spec.column] = values
    return out


def build_features(
    con: duckdb.DuckDBPyConnection,
    index: pd.DataFrame,
    *,
    task: TaskSpec | str,
    catalogue: Catalogue | None = None,
    check: bool = True,
) -> pd.DataFrame:
    """Keys, practice_code, then every feature of `task` (float64, catalogue order).

    Features see only what was known at 00:00 of each row's index_date (docs/architecture.md).
    check=False skips the YAML data tests (the leakage audit compares raw values).
    """
    task = resolve_task(task)
    catalogue = catalogue or load_catalogue()
    keys = index_keys(task)
    _ensure_tables(con)
    columns: dict[str, np.ndarray] = {}
    with (
        timed("features.build", task=task.name, rows=len(index)),
        index_relation(con, index, task=task) as n,
    ):
        practice = con.execute(PRACTICE_SQL).df()["practice_code"]
        for group in catalogue.groups_for(task):
            columns.update(run_group(con, group, n=n, check=check))
    out = pd.DataFrame({k: index[k].to_numpy() for k in keys})
    out["index_date"] = pd.to_datetime(out["index_date"])
    out["practice_code"] = practice.astype("str").to_numpy()
    features = pd.DataFrame(columns, index=out.index)
    log_event("features.matrix", task=task.name, rows=n, features=features.shape[1])
    return pd.concat([out, features], axis=1)


def decode(matrix: pd.DataFrame, *, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Human-readable demographics for slicing (riskstrat.slices.assign_slices)."""
    catalogue = catalogue or load_catalogue()
    out = pd.DataFrame(index=matrix.index)
    for column in ("age", "sex", "ethnicity", "imd_decile", "practice_code", "ltc_count"):
        values = matrix[column]
        if column != "practice_code" and (cats := catalogue.spec(column).categories) is not None:
            labels = np.array(cats, dtype=object)
            codes = values.to_numpy(dtype="float64")
            known = ~np.isnan(codes)
            decoded = np.full(len(values), None, dtype=object)
            decoded[known] = labels[codes[known].astype(int)]
            values = pd.Series(decoded, index=matrix.index, dtype="str")
        out[column] = values
    return out
