"""The extract passes the contract's rules: columns, types, allowed values, keys, row rules and
the cross-table rules ingest applies (checked in SQL over the in-memory DuckDB loader)."""

from __future__ import annotations

import re

import pyarrow.parquet as pq
import pytest

from riskstrat.registry.contract import CROSS_TABLE_RULES, ROW_RULES, TABLES
from riskstrat.synth.tables import ARROW_TYPES

EXTRACT_TABLES = [name for name in TABLES if name != "outreach_outcomes"]


@pytest.mark.parametrize("name", EXTRACT_TABLES)
def test_synth_file_has_contract_columns_and_types(synth_population, name):
    schema = pq.read_schema(synth_population[0] / "extract" / f"{name}.parquet")
    table = TABLES[name]
    required = [c.name for c in table.columns if c.required]
    assert [n for n in schema.names if n in required] == required
    assert set(schema.names) <= set(table.column_names)
    for field in schema:
        assert field.type == ARROW_TYPES[table.column(field.name).dtype], field.name


@pytest.mark.parametrize("name", EXTRACT_TABLES)
def test_synth_values_follow_column_rules(synth_con, name):
    table = TABLES[name]
    rows = synth_con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    assert rows > 0
    for col in table.columns:
        if not col.nullable:
            nulls = synth_con.execute(f"SELECT count(*) FROM {name} WHERE {col.name} IS NULL")
            assert nulls.fetchone()[0] == 0, col.name
        if col.allowed:
            values = {
                v
                for (v,) in synth_con.execute(f"SELECT DISTINCT {col.name} FROM {name}").fetchall()
            }
            assert values - {None} <= set(col.allowed), col.name
        if col.pattern:
            values = [
                v
                for (v,) in synth_con.execute(f"SELECT DISTINCT {col.name} FROM {name}").fetchall()
            ]
            bad = [v for v in values if v is not None and not re.fullmatch(col.pattern, v)]
            assert not bad, (col.name, bad[:5])
        if col.min is not None or col.max is not None:
            lo, hi = synth_con.execute(
                f"SELECT min({col.name}), max({col.name}) FROM {name}"
            ).fetchone()
            assert col.min is None or lo >= col.min
            assert col.max is None or hi <= col.max
    if table.key:
        keys = ", ".join(table.key)
        dup = synth_con.execute(
            f"SELECT count(*) FROM (SELECT {keys} FROM {name} GROUP BY {keys} HAVING count(*) > 1)"
        ).fetchone()[0]
        assert dup == 0
    for rule in table.row_rules:
        predicate = ROW_RULES[rule][0]
        bad = synth_con.execute(f"SELECT count(*) FROM {name} WHERE NOT ({predicate})").fetchone()
        assert bad[0] == 0, rule


def test_synth_no_exact_duplicate_rows(synth_con):
    for name in ("gp_contacts", "prescriptions", "observations"):
        cols = ", ".join(TABLES[name].column_names)
        dup = synth_con.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM {name} GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
        assert dup == 0, name


@pytest.mark.parametrize("name", [n for n in EXTRACT_TABLES if TABLES[n].event_columns])
def test_synth_events_inside_life_and_extract(synth_population, synth_con, name):
    """not_after_extract, not_before_birth, not_after_death (no grace needed), patient_exists."""
    end = synth_population[1].end.isoformat()
    assert {"not_after_extract", "not_before_birth", "not_after_death"} <= set(CROSS_TABLE_RULES)
    for col in TABLES[name].event_columns:
        day = f"CAST(t.{col} AS DATE)"
        bad = synth_con.execute(f"""
            SELECT count(*) FILTER (WHERE {day} > DATE '{end}'),
                   count(*) FILTER (WHERE {day} < p.date_of_birth),
                   count(*) FILTER (WHERE {day} > p.date_of_death)
            FROM {name} t JOIN patients p USING (patient_id)
        """).fetchone()  # fmt: skip
        assert bad == (0, 0, 0), (col, bad)
    if name != "patients":
        orphans = synth_con.execute(
            f"SELECT count(*) FROM {name} WHERE patient_id NOT IN (SELECT patient_id FROM patients)"
        ).fetchone()[0]
        assert orphans == 0


def test_synth_practices_known_and_capacity(synth_con):
    unknown = synth_con.execute(
        "SELECT count(*) FROM patients WHERE practice_code NOT IN "
        "(SELECT practice_code FROM practices)"
    ).fetchone()[0]
    assert unknown == 0
    share = synth_con.execute("""
        SELECT min(weekly_capacity / n), max(weekly_capacity / n) FROM practices
        JOIN (SELECT practice_code, count(*) AS n FROM patients GROUP BY 1) USING (practice_code)
    """).fetchone()  # fmt: skip
    assert share[0] > 0.0015 and share[1] < 0.0035


def test_synth_spells_open_at_extract_have_no_discharge_details(synth_con):
    bad = synth_con.execute("""
        SELECT count(*) FROM spells
        WHERE (discharge_date IS NULL) <> (discharge_destination IS NULL)
    """).fetchone()[0]  # fmt: skip
    assert bad == 0
    died = synth_con.execute("""
        SELECT count(*) FROM spells s JOIN patients p USING (patient_id)
        WHERE s.discharge_destination = 'died' AND p.date_of_death IS DISTINCT FROM s.discharge_date
    """).fetchone()[0]  # fmt: skip
    assert died == 0


def test_synth_csv_format_loads_the_same(tmp_path):
    from datetime import date

    from riskstrat.synth.generate import synthesize
    from riskstrat.synth.realism import load_extract

    kw = dict(patients=600, practices=2, start=date(2024, 1, 1), end=date(2024, 12, 31), seed=3)
    synthesize(**kw, out_dir=tmp_path / "pq", fmt="parquet")
    synthesize(**kw, out_dir=tmp_path / "csv", fmt="csv")
    a, b = load_extract(tmp_path / "pq" / "extract"), load_extract(tmp_path / "csv" / "extract")
    for name in EXTRACT_TABLES:
        order = ", ".join(TABLES[name].column_names)
        q = f"SELECT * FROM {name} ORDER BY {order}"
        assert a.execute(q).fetchall() == b.execute(q).fetchall(), name
