"""The synthetic world changes in calendar time (season, trend, a virtual ward, a practice's coding
gap), and activity follows the condition status at the time, never a later one."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

import numpy as np
import pandas as pd
from click.testing import CliRunner

from riskstrat.synth.generate import synthesize
from riskstrat.synth.params import World
from riskstrat.synth.realism import realism_table
from riskstrat.synth.truth import world_from_json

SMALL = dict(patients=6000, practices=2, start=date(2024, 1, 1), end=date(2024, 12, 29), seed=11)


def test_synth_realism_has_season_and_trend_rows(synth_con):
    table = realism_table(synth_con, as_of=date(2025, 12, 29)).set_index("measure")
    season = table.loc["emergency admissions, January / August (per registered day)"]
    trend = table.loc["emergency admissions, last 12 months vs 12 before (%)"]
    assert season["reference"] == 1.12 and trend["reference"] == 1.5
    assert 0.95 <= season["generated"] <= 1.35  # 20,000 people: ~480 admissions a month-group
    assert -6 <= trend["generated"] <= 9


def test_synth_blood_pressure_follows_status_at_the_time(synth_con):
    """Hypertensives diagnosed during the period: readings before diagnosis look normotensive."""
    before, after = synth_con.execute("""
        SELECT avg(value) FILTER (WHERE o.observed_on < c.diagnosed_on),
               avg(value) FILTER (WHERE o.observed_on >= c.diagnosed_on)
        FROM observations o JOIN conditions c USING (patient_id)
        WHERE o.code = 'sbp' AND c.register = 'HYP' AND c.diagnosed_on > DATE '2023-03-01'
    """).fetchone()  # fmt: skip
    assert before < 131 < 135 < after, (before, after)


def test_synth_world_is_stored_and_read_back(tmp_path):
    world = World(trend_per_year=0.02, ward_from=19_800, ward_effect=0.25)
    synthesize(**SMALL, out_dir=tmp_path, world=world)
    meta = json.loads((tmp_path / "truth" / "meta.json").read_text())
    assert world_from_json(meta["world"]) == world
    assert meta["world"] == json.loads(json.dumps(asdict(world)))


def test_synth_coding_gap_drops_half_a_register_in_one_practice(tmp_path):
    synthesize(**SMALL, out_dir=tmp_path / "gap", world=World(coding_gap=("CKD", 0, 0.5)))
    synthesize(**SMALL, out_dir=tmp_path / "full", world=World(coding_gap=None))

    def ckd_by_practice(folder):
        c = pd.read_parquet(folder / "extract" / "conditions.parquet")
        p = pd.read_parquet(folder / "extract" / "patients.parquet")
        codes = sorted(p["practice_code"].unique())
        c = c.merge(p[["patient_id", "practice_code"]], on="patient_id")
        return c, c[c["register"] == "CKD"].groupby("practice_code").size().reindex(codes)

    gap, gap_ckd = ckd_by_practice(tmp_path / "gap")
    full, full_ckd = ckd_by_practice(tmp_path / "full")
    assert gap_ckd.iloc[1] == full_ckd.iloc[1]  # the other practice records everything
    share = gap_ckd.iloc[0] / full_ckd.iloc[0]
    assert 0.35 <= share <= 0.65, share
    other = ["patient_id", "register", "diagnosed_on"]
    assert len(gap[gap["register"] != "CKD"].merge(full[full["register"] != "CKD"], on=other)) == (
        (full["register"] != "CKD").sum()
    )  # nothing else differs


def test_synth_virtual_ward_lowers_readmission_by_a_known_amount(tmp_path):
    """A ward from the start that removes the whole post-discharge bump: the oracle's (exact)
    readmission risk and the simulated rate both fall well below the world without it."""
    start = int(np.datetime64(SMALL["start"], "D").astype(np.int64))
    ward = World(ward_from=start, ward_effect=1.0)
    synthesize(**SMALL, out_dir=tmp_path / "ward", world=ward)
    synthesize(**SMALL, out_dir=tmp_path / "none", world=World())
    r = {k: pd.read_parquet(tmp_path / k / "truth/readmission.parquet") for k in ("ward", "none")}
    r = {k: v[v["eligible"] & v["mature"]] for k, v in r.items()}
    assert r["ward"]["p_readmission"].mean() < 0.6 * r["none"]["p_readmission"].mean()
    assert r["ward"]["label"].mean() < r["none"]["label"].mean()


def test_synth_cli_world_options(tmp_path):
    from riskstrat.synth.cli import synth

    result = CliRunner().invoke(synth, [
        "--patients", "500", "--practices", "1", "--start", "2024-01-01", "--end", "2024-06-30",
        "--out", str(tmp_path), "--trend", "0.02", "--seasonality", "0",
        "--virtual-ward", "2024-03-01", "--virtual-ward-effect", "0.4",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    world = world_from_json(json.loads((tmp_path / "truth" / "meta.json").read_text())["world"])
    assert (world.trend_per_year, world.season_amplitude, world.ward_effect) == (0.02, 0.0, 0.4)
    assert world.ward_from == (date(2024, 3, 1) - date(1970, 1, 1)).days
