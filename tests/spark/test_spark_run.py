"""The weekly run on Spark (local mode, a real JVM) against the DuckDB run: the same store, the
same champions, the same history (an earlier week's run), so rising risk, previous listings and
the matured window all take part. Scores agree to 1e-9, every list file is the same byte for byte
(order included), and so are the suppressed commissioner aggregates and the monitoring files."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from riskstrat.runs.manifest import MANIFEST_FILE, read_manifest

pytest.importorskip("pyspark")

EXTRACT_DATE = date(2025, 12, 28)  # tests/conftest.py SMALL_POPULATION["end"]
AS_OF = EXTRACT_DATE + timedelta(days=1)
EARLIER = AS_OF - timedelta(days=7)  # last week's run: previous scores and listings
ENGINES = ("duckdb", "spark")


@pytest.fixture(scope="module")
def runs(spark, small_store: Path, fast_champions: Path, settings_under, tmp_path_factory) -> dict:
    """engine -> (settings, manifest): the as-of run of each engine on its own copy of one store
    that already holds last week's scores and lists and the scores of one horizon ago. The
    run uses the tests' small-data session (`spark`, tests/spark/conftest.py)."""
    from riskstrat.runs.pipeline import run_once
    from riskstrat.runs.state import RunOptions

    base = settings_under(tmp_path_factory.mktemp("base"), mlflow_db=fast_champions)
    base.paths.store.parent.mkdir(parents=True)
    shutil.copy(small_store, base.paths.store)
    _history(base)
    out = {}
    for engine in ENGINES:
        settings = settings_under(tmp_path_factory.mktemp(engine), mlflow_db=fast_champions)
        settings.paths.store.parent.mkdir(parents=True)
        shutil.copy(base.paths.store, settings.paths.store)
        options = RunOptions(ingest=False, engine=engine)
        out[engine] = (settings, run_once(as_of=AS_OF, settings=settings, options=options))
    return out


def _history(settings) -> None:
    """Last week's scores and listings (who was listed, for the relisting rules), and crisis
    scores one horizon ago (the matured window monitoring and the report read)."""
    from riskstrat.outreach.config import load_outreach_config, load_pathways
    from riskstrat.outreach.lists import select
    from riskstrat.outreach.scoring import score
    from riskstrat.outreach.store_io import record_listed
    from riskstrat.registry.store import connect

    with connect(settings.paths.store, read_only=False) as con:
        score(con, as_of=AS_OF - timedelta(days=91), settings=settings, tasks=("crisis",))
        score(con, as_of=EARLIER, settings=settings)
        config = load_outreach_config()
        pathways = load_pathways(config)
        chosen = select(con, as_of=EARLIER, config=config, pathways=pathways)
        record_listed(con, chosen.lists, as_of=EARLIER, pathways=list(pathways))


def _run_dir(settings) -> Path:
    return settings.paths.out_dir / "runs" / AS_OF.isoformat()


def _scores(settings) -> pd.DataFrame:
    from riskstrat.registry.store import connect

    with connect(settings.paths.store) as con:
        return con.execute(
            "SELECT task, patient_id, index_date, index_spell_id, risk, model_version "
            "FROM scores WHERE as_of = ? ORDER BY ALL",
            [AS_OF],
        ).df()


def test_spark_scores_match_duckdb(runs: dict) -> None:
    duck, spark = (_scores(runs[e][0]) for e in ENGINES)
    assert len(duck) > 1000 and set(duck["task"]) == {"crisis", "readmission_30d"}
    keys = ["task", "patient_id", "index_date", "index_spell_id", "model_version"]
    pd.testing.assert_frame_equal(duck[keys], spark[keys])
    assert (duck["risk"] - spark["risk"]).abs().max() <= 1e-9


def test_spark_lists_match_duckdb_byte_for_byte(runs: dict) -> None:
    from riskstrat.filehash import content_hash

    duck, spark = (_run_dir(runs[e][0]) for e in ENGINES)
    files = sorted(p.relative_to(duck) for p in (duck / "practices").rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(spark) for p in (spark / "practices").rglob("*") if p.is_file()
    )
    csvs = [f for f in files if f.suffix == ".csv" and f.name != "feedback.csv"]
    listed = sum(len(pd.read_csv(duck / f)) for f in csvs)
    assert listed > 20  # the lists are not trivially empty
    for name in files:  # CSV and HTML byte for byte; XLSX by content (save time left out)
        assert content_hash(duck / name) == content_hash(spark / name), name


def test_spark_suppressed_aggregates_and_monitoring_match_duckdb(runs: dict) -> None:
    duck, spark = (_run_dir(runs[e][0]) for e in ENGINES)
    aggregates = pd.read_csv(duck / "commissioner" / "aggregates.csv")
    assert aggregates["suppressed"].any() and len(aggregates) > 100
    for name in ("commissioner/aggregates.csv", "commissioner/warnings.csv",
                 "commissioner/report.html", "monitoring/summary.json",
                 "monitoring/crisis_drift.csv"):  # fmt: skip
        assert (duck / name).read_bytes() == (spark / name).read_bytes(), name


def test_spark_run_manifest_records_engine_and_same_outputs(runs: dict) -> None:
    (_, duck), (spark_settings, spark) = (runs[e] for e in ENGINES)
    assert (duck.engine, spark.engine) == ENGINES
    assert spark.status == "succeeded"
    assert read_manifest(_run_dir(spark_settings) / MANIFEST_FILE) == spark
    assert [s for s in spark.counts if s != "export"] == list(duck.counts)
    assert spark.counts["export"] == {"exported": 1}
    assert spark.counts["select"] == duck.counts["select"]
    assert spark.outputs == duck.outputs  # every file's content hash


def test_unknown_engine_is_refused() -> None:
    from riskstrat.cli import main
    from riskstrat.runs.engine import UNKNOWN_ENGINE, steps_for

    with pytest.raises(ValueError, match="choose one of duckdb, spark") as caught:
        steps_for("polars")
    assert str(caught.value) == UNKNOWN_ENGINE.format(name="polars")
    result = CliRunner().invoke(main, ["run", "--as-of", "2025-12-29", "--engine", "polars"])
    assert result.exit_code == 2 and "'polars' is not one of 'duckdb', 'spark'" in result.output
