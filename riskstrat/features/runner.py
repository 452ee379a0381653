"""Build the feature matrix: run every feature group's SQL against the index and check it.

One set-based query per group (GROUP BY over joins to `index_rows`), checked against the
group's YAML (columns and data tests). DuckDB encodes categoricals with the versioned codebook and
casts every feature to float64, so only numeric arrays reach Python; rows are placed by row_id.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
import threading
from collections.abc import Collection, Mapping, Sequence

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
SELECT p.practice_code
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


def check_values(values: np.ndarray, spec: FeatureSpec) -> None:
    """The YAML data tests of one column (after encoding); raise naming group, column, test."""
    tests = spec.tests

    def fail(test: str, detail: str) -> None:
        raise ValueError(
            TEST_FAILED.format(group=spec.group, column=spec.column, test=test, detail=detail)
        )

    if tests.not_null and (nulls := int(np.isnan(values).sum())):
        fail("not_null", f"{nulls} null value(s)")
    if tests.min is not None and (below := int((values < tests.min).sum())):
        fail("min", f"{below} value(s) below {tests.min:g} (lowest {np.nanmin(values):g})")
    if tests.max is not None and (above := int((values > tests.max).sum())):
        fail("max", f"{above} value(s) above {tests.max:g} (highest {np.nanmax(values):g})")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def encoded_sql(group: FeatureGroup) -> str:
    """The group's query with every column as DOUBLE, categoricals as codebook positions.

    Encoding inside DuckDB means only float64 arrays cross into Python (no string columns).
    """
    columns = []
    for spec in group.features:
        name = f'"{spec.column}"'
        if spec.categories is None:
            columns.append(f"CAST(g.{name} AS DOUBLE) AS {name}")
            continue
        cases = " ".join(
            f"WHEN {_literal(label)} THEN {float(i)!r}" for i, label in enumerate(spec.categories)
        )
        columns.append(f"CAST(CASE g.{name} {cases} END AS DOUBLE) AS {name}")
    return f"SELECT g.row_id, {', '.join(columns)} FROM ({group.sql}) AS g"


def check_group_columns(group: FeatureGroup, bound: Sequence[str]) -> None:
    """The group's SQL returns exactly the columns its YAML declares (besides row_id); both
    engines check their bound query with this before running it."""
    returned = {c for c in bound if c != "row_id"}
    if returned != set(group.columns):
        raise ValueError(
            GROUP_COLUMNS_MISMATCH.format(
                group=group.name,
                sql=group.sql_path.name,
                extra=sorted(returned - set(group.columns)),
                missing=sorted(set(group.columns) - returned),
            )
        )


def run_group(
    con: duckdb.DuckDBPyConnection,
    group: FeatureGroup,
    *,
    n: int,
    check: bool = True,
    into: Mapping[str, np.ndarray] | None = None,
) -> dict:
    """One group's query over `index_rows`: encoded (and checked) columns keyed by name.

    Rows come back in any order and are placed by row_id (no sort in DuckDB), into `into`'s
    arrays (length n, by column) when given, else into new ones.
    """
    check_group_columns(group, con.sql(f"SELECT * FROM ({group.sql}) AS g LIMIT 0").columns)
    with timed("features.group", group=group.name) as extra:
        # Arrow, not fetchnumpy: Arrow's memory pool reuses the pages of the previous group's
        # result, where new numpy arrays would be fresh memory each time (slow to touch on
        # the benchmark VM: docs/scale.md, "perfscore (round 2)")
        fetched = con.sql(encoded_sql(group)).to_arrow_table()
        row_id = fetched.column("row_id").to_numpy()
        extra["rows"] = len(row_id)
    if not _is_permutation(row_id, n):
        raise ValueError(GROUP_ROWS_MISMATCH.format(group=group.name, rows=len(row_id), expected=n))
    out = {}
    for spec in group.features:
        values = into[spec.column] if into is not None else np.empty(n, dtype="float64")
        _place(values, row_id, fetched.column(spec.column))
        if check:
            check_values(values, spec)
        out[spec.column] = values
    return out


def _place(values: np.ndarray, row_id: np.ndarray, column: pa.ChunkedArray) -> None:
    """Put a fetched DOUBLE column's values (NULL: NaN) at their rows, chunk by chunk (a
    chunk without nulls is read in place, no copy)."""
    start = 0
    for chunk in column.chunks:
        stop = start + len(chunk)
        values[row_id[start:stop]] = chunk.to_numpy(zero_copy_only=False)
        start = stop


#: Blocks smaller than this are not worth a thread (_prefault).
PREFAULT_MIN_BYTES = 64 * 2**20
MADV_POPULATE_WRITE = 23  # linux/mman.h (Linux 5.14+)
#: One madvise call per slice: the call holds the process's memory-map lock, so one call over
#: the whole block stalled every allocation DuckDB made meanwhile (3M: 15.6 s before the first
#: group returned; docs/scale.md "Steady-state week, stop 23", lead).
PREFAULT_SLICE_BYTES = 4 * 2**20


def _prefault(block: np.ndarray) -> threading.Thread | None:
    """Fault the new block's pages in, in a thread, while DuckDB runs the first groups' queries
    (populate_pages). On the benchmark VM the first write of fresh memory is most of the features
    time outside the SQL (docs/scale.md, "Steady-state week, stop 23")."""
    if sys.platform != "linux" or block.nbytes < PREFAULT_MIN_BYTES:
        return None
    thread = threading.Thread(target=populate_pages, args=(block,), name="riskstrat-prefault")
    thread.start()
    return thread


def populate_pages(block: np.ndarray) -> bool:
    """madvise(MADV_POPULATE_WRITE) over the block's whole pages, a slice at a time: maps them
    writable without writing to them, so placing values at the same time is safe; ctypes
    releases the GIL. False (nothing done; the first writes fault the pages in) off Linux or
    before Linux 5.14."""
    page = mmap.PAGESIZE
    start = -(-block.ctypes.data // page) * page  # whole pages inside the block
    stop = (block.ctypes.data + block.nbytes) // page * page
    if sys.platform != "linux" or stop <= start:
        return False
    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    for begin in range(start, stop, PREFAULT_SLICE_BYTES):
        length = min(PREFAULT_SLICE_BYTES, stop - begin)
        if madvise(begin, length, MADV_POPULATE_WRITE) != 0:
            return False
    return True


def _is_permutation(row_id: np.ndarray, n: int) -> bool:
    """Exactly one result row per index row (row ids 0..n-1, each once)."""
    if len(row_id) != n:
        return False
    if n == 0:
        return True
    if row_id.min() < 0 or row_id.max() >= n:
        return False
    seen = np.zeros(n, dtype=bool)
    seen[row_id] = True
    return bool(seen.all())


def input_groups(
    catalogue: Catalogue, task: TaskSpec | str, *, also: Collection[str] = ()
) -> tuple[FeatureGroup, ...]:
    """The task's groups that hold a model input (use_in_model) or a column of `also`, in
    catalogue order: what scoring needs. A group kept for research only (history: no model
    input) is built by training and the audits, not by every weekly run."""
    task = resolve_task(task)
    needed = set(catalogue.model_features(task)) | set(also)
    return tuple(g for g in catalogue.groups_for(task) if needed & set(g.columns))


def build_features(
    con: duckdb.DuckDBPyConnection,
    index: pd.DataFrame,
    *,
    task: TaskSpec | str,
    catalogue: Catalogue | None = None,
    check: bool = True,
    groups: Sequence[FeatureGroup] | None = None,
) -> pd.DataFrame:
    """Keys, practice_code, then every feature of `task` (float64, catalogue order).

    Features see only what was known at 00:00 of each row's index_date (docs/architecture.md).
    check=False skips the YAML data tests (the leakage audit compares raw values). groups: only
    these of the task's groups, in this order (input_groups: catalogue order); default all.
    """
    task = resolve_task(task)
    catalogue = catalogue or load_catalogue()
    keys = index_keys(task)
    _ensure_tables(con)
    groups = catalogue.groups_for(task) if groups is None else tuple(groups)
    names = [c for g in groups for c in g.columns]
    # one float64 block, feature j in row j: each group's values are placed straight into it
    # and the frame below wraps it without a copy (no other array of its size is made)
    block = np.empty((len(names), len(index)), dtype="float64")
    rows = dict(zip(names, block, strict=True))
    prefaulting = _prefault(block)
    try:
        with (
            timed("features.build", task=task.name, rows=len(index)),
            index_relation(con, index, task=task) as n,
        ):
            practice = con.sql(PRACTICE_SQL).to_arrow_table()
            for group in groups:
                run_group(con, group, n=n, check=check, into=rows)
    finally:
        if prefaulting is not None:
            prefaulting.join()
    leading = index[keys].reset_index(drop=True)
    leading["index_date"] = pd.to_datetime(leading["index_date"])
    leading["practice_code"] = pd.array(practice.column("practice_code"), dtype="str")
    # the frame wraps the block; the leading columns are inserted before it as blocks of their
    # own (a concat would copy the whole block: ~700 MB at 1M rows)
    matrix = pd.DataFrame(block.T, columns=names, copy=False)
    for position, column in enumerate(leading.columns):
        matrix.insert(position, column, leading[column])
    log_event("features.matrix", task=task.name, rows=n, features=len(names))
    return matrix


def decode(matrix: pd.DataFrame, *, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Human-readable demographics for slicing (riskstrat.slices.assign_slices)."""
    catalogue = catalogue or load_catalogue()
    out = pd.DataFrame(index=matrix.index)
    for column in ("age", "sex", "ethnicity", "imd_decile", "practice_code", "ltc_count"):
        values = matrix[column]
        if column != "practice_code" and (cats := catalogue.spec(column).categories) is not None:
            values = pd.Series(_labels(values.to_numpy(dtype="float64"), cats), index=matrix.index)
        out[column] = values
    return out


def _labels(codes: np.ndarray, categories: Sequence[str]) -> pd.api.extensions.ExtensionArray:
    """Codebook positions (NaN: missing) as a `str` array, taken in Arrow: no Python string
    is built per row."""
    known = ~np.isnan(codes)
    positions = pa.array(np.where(known, codes, 0).astype(np.int64), mask=~known)
    return pd.array(pc.take(pa.array(categories, pa.large_string()), positions), dtype="str")
