"""The one SQL source on Spark: DuckDB SQL (features/*.sql, the task SQL) transpiled at run time.

The feature and task SQL are written once, in DuckDB's dialect, and run as they are on DuckDB.
For Spark, `to_spark(sql)` transpiles the text with sqlglot (read duckdb, write spark) and makes
one numeric rule explicit: a decimal literal such as `365.25` is DECIMAL in Spark, so
`days / 365.25` would be rounded to 6 decimal places there, while DuckDB divides in DOUBLE. Every
decimal literal becomes a DOUBLE, so both engines compute the same float64 values.
The measurement behind the choice (transpile, not a hand-kept common dialect) is in docs/spark.md.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

TRANSPILE_FAILED = "SQL of {what} could not be transpiled from DuckDB to Spark SQL: {detail}"


def _double_literal(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Literal) and not node.is_string and "." in node.this:
        return exp.cast(node.copy(), exp.DataType.build("DOUBLE"))
    return node


@lru_cache(maxsize=512)
def to_spark(sql: str, *, what: str = "a query") -> str:
    """`sql` (DuckDB dialect, one statement) as Spark SQL; cached per text."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        detail = str(exc).splitlines()[0]
        raise ValueError(TRANSPILE_FAILED.format(what=what, detail=detail)) from exc
    return tree.transform(_double_literal).sql(dialect="spark")
