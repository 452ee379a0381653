"""The trend's earlier weeks from an incremental table, not a re-sort of every week's scores.

Each scored as-of's headline figures (riskstrat.reports.population.headline) are appended to
`report_trend` by the report of that as-of (or, for a date no report covered, the first time a
later report needs them), keyed by task, as-of and the report settings they depend on. A row
counts only while the scoring it was made from is the current one (same `score_runs` row count
and time): a re-scored date is recomputed. A read-only connection (`riskstrat report`) computes
without appending.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date

import duckdb
import pandas as pd

from riskstrat.reports.frames import HEADLINE_COLUMNS
from riskstrat.reports.population import headline
from riskstrat.reports.settings import ReportConfig
from riskstrat.scored import SCORE_RUNS_TABLE, SCORES_TABLE

TREND_TABLE = "report_trend"
TREND_DDL = f"""CREATE TABLE IF NOT EXISTS {TREND_TABLE} (
  task VARCHAR NOT NULL,
  as_of DATE NOT NULL,
  settings_key VARCHAR NOT NULL,
  scored_at TIMESTAMP NOT NULL,
  rows BIGINT NOT NULL,
  population BIGINT NOT NULL,
  expected_admissions DOUBLE,
  expected_lower DOUBLE,
  expected_upper DOUBLE,
  case_management_threshold DOUBLE
)"""
FIGURES = HEADLINE_COLUMNS[1:]


def settings_key(config: ReportConfig) -> str:
    """A hash of the settings a headline depends on (task, pyramid bands, interval level)."""
    used = config.model_dump(include={"task", "pyramid", "interval_level"}, mode="json")
    return hashlib.sha256(json.dumps(used, sort_keys=True).encode()).hexdigest()[:16]


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }


def _writable(con: duckdb.DuckDBPyConnection) -> bool:
    (row,) = con.execute("SELECT current_setting('access_mode')").fetchall()
    return str(row[0]).lower() != "read_only"


def _kept(
    con: duckdb.DuckDBPyConnection, *, task: str, key: str, days: Sequence[date]
) -> dict[date, dict[str, object]]:
    """Stored headlines of `days` still matching their scoring (score_runs)."""
    if not days or not {TREND_TABLE, SCORE_RUNS_TABLE} <= _tables(con):
        return {}
    frame = con.execute(
        f"SELECT t.as_of, {', '.join(f't.{c}' for c in FIGURES)} FROM {TREND_TABLE} t "
        f"JOIN {SCORE_RUNS_TABLE} r ON r.task = t.task AND r.as_of = t.as_of "
        "AND r.scored_at = t.scored_at AND r.rows = t.rows "
        f"WHERE t.task = ? AND t.settings_key = ? AND t.as_of IN ({', '.join('?' * len(days))})",
        [task, key, *days],
    ).df()
    out = {}
    for row in frame.to_dict("records"):
        day = pd.Timestamp(row.pop("as_of")).date()
        out[day] = {"as_of": pd.Timestamp(day), **row, "population": int(row["population"])}
    return out


def _append(
    con: duckdb.DuckDBPyConnection, *, task: str, key: str, day: date, figures: dict
) -> None:
    """Append a computed headline, tied to the scoring it came from (nothing when unknown)."""
    if SCORE_RUNS_TABLE not in _tables(con):
        return
    found = con.execute(
        f"SELECT scored_at, rows FROM {SCORE_RUNS_TABLE} WHERE task = ? AND as_of = ?",
        [task, day],
    ).fetchall()
    if len(found) != 1:
        return
    scored_at, rows = found[0]
    con.execute(TREND_DDL)
    con.execute(
        f"DELETE FROM {TREND_TABLE} WHERE task = ? AND as_of = ? AND settings_key = ?",
        [task, day, key],
    )
    con.execute(
        f"INSERT INTO {TREND_TABLE} VALUES (?, ?, ?, ?, ?, {', '.join('?' * len(FIGURES))})",
        [task, day, key, scored_at, rows, *(figures[c] for c in FIGURES)],
    )


def remember(
    con: duckdb.DuckDBPyConnection, cohort: pd.DataFrame, *, as_of: date, config: ReportConfig
) -> None:
    """Append this week's headline (from the report's cohort: risk per scored person), so next
    week's trend reads it instead of recomputing it from the scores."""
    if _writable(con):
        figures = headline(cohort, as_of=as_of, config=config)
        _append(con, task=config.task, key=settings_key(config), day=as_of, figures=figures)


def _models(
    con: duckdb.DuckDBPyConnection, *, task: str, days: Sequence[date]
) -> dict[date, tuple[str, str]]:
    """The model (name, version) that scored each of `days` (score_runs; absent: unknown)."""
    if not days or SCORE_RUNS_TABLE not in _tables(con):
        return {}
    rows = con.execute(
        f"SELECT as_of, model_name, model_version FROM {SCORE_RUNS_TABLE} "
        f"WHERE task = ? AND as_of IN ({', '.join('?' * len(days))})",
        [task, *days],
    ).fetchall()
    return {pd.Timestamp(d).date(): (str(n), str(v)) for d, n, v in rows}


def comparable_days(
    con: duckdb.DuckDBPyConnection, *, as_of: date, config: ReportConfig
) -> tuple[list[date], list[date]]:
    """The earlier scored as-of dates of the trend window (the last `trend_weeks` - 1), newest
    first, split into those scored by the model that scored `as_of` and those scored by
    another: a change of model moves every figure (expected admissions, the entry risk), so
    weeks of different models do not compare like with like. A date whose model is not
    recorded is kept."""
    if SCORES_TABLE not in _tables(con):
        return [], []
    days = [
        pd.Timestamp(d).date()
        for (d,) in con.execute(
            f"SELECT DISTINCT as_of FROM {SCORES_TABLE} WHERE task = ? AND as_of < ? "
            "ORDER BY as_of DESC LIMIT ?",
            [config.task, as_of, config.trend_weeks - 1],
        ).fetchall()
    ]
    models = _models(con, task=config.task, days=[as_of, *days])
    current = models.get(as_of)
    if current is None:
        return days, []
    same = [d for d in days if models.get(d, current) == current]
    return same, [d for d in days if models.get(d, current) != current]


def history(con: duckdb.DuckDBPyConnection, *, as_of: date, config: ReportConfig) -> pd.DataFrame:
    """Headline figures of the earlier scored as-of dates (for the week-on-week trend) scored
    by this week's model (comparable_days), oldest first: from `report_trend` where kept, else
    computed from that date's scores (and kept)."""
    if SCORES_TABLE not in _tables(con):
        return pd.DataFrame(columns=list(HEADLINE_COLUMNS))
    days, _ = comparable_days(con, as_of=as_of, config=config)
    key = settings_key(config)
    kept = _kept(con, task=config.task, key=key, days=days)
    writable = _writable(con)
    rows = []
    for day in reversed(days):
        if day not in kept:
            scores = con.execute(
                f"SELECT risk FROM {SCORES_TABLE} WHERE task = ? AND as_of = ?",
                [config.task, day],
            ).df()
            kept[day] = headline(scores, as_of=day, config=config)
            if writable:
                _append(con, task=config.task, key=key, day=day, figures=kept[day])
        rows.append(kept[day])
    return pd.DataFrame(rows, columns=list(HEADLINE_COLUMNS))
