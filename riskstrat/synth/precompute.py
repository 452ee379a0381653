"""Precomputed oracle files for a default set of as-of dates and for every discharge, and the
oracle's own AUROC against the simulated outcomes (the ceiling any model can approach)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score

from riskstrat.registry.contract import ADMISSION_METHODS, DISCHARGE_DESTINATIONS
from riskstrat.synth.oracle import READMISSION_DAYS, observed_emergency, replay, state_at
from riskstrat.synth.simulate import DIED, MATERNITY, OTHER_HOSPITAL
from riskstrat.synth.truth import load_truth

CRISIS_HORIZONS = (90, 365)
QUARTER_DAYS = 91
MONDAY = 4  # 1970-01-01 was a Thursday: day % 7 == 4 is a Monday
AS_OF_COUNT = 2


def default_as_of(day0: int, day1: int) -> dict[int, tuple[int, ...]]:
    """as-of date -> horizons. Mondays 13 weeks apart: the last AS_OF_COUNT whose 90-day window
    is inside the extract, and the latest one on the same grid whose 365-day window is (365 is
    also scored at 90). Only dates with a year of history (or the start, for short periods)."""
    last = day1 - 89
    last -= (last - MONDAY) % 7
    grid = [d for d in range(last, day0 - 1, -QUARTER_DAYS) if d >= min(day0 + 364, last)]
    out = {d: (90,) for d in grid[:AS_OF_COUNT]}
    mature = [d for d in grid if d + 364 <= day1]
    if mature:
        out[mature[0]] = CRISIS_HORIZONS
    return dict(sorted(out.items()))


def crisis_table(truth_dir: Path) -> pd.DataFrame:
    """Oracle risks for every registered, living patient at each default as-of date, for each
    horizon whose window is wholly inside the extract, with the simulated outcome."""
    truth = load_truth(truth_dir)
    pr = truth.persons
    ids = np.array(list(truth.ids), dtype=object)
    frames = []
    for as_of, horizons in default_as_of(truth.day0, truth.day1).items():
        person = np.flatnonzero(
            (pr["entry"] <= as_of) & (as_of < pr["leave"]) & (pr["death_day"] >= as_of)
        )
        t0 = np.full(person.size, as_of, dtype=np.int64)
        risks = replay(truth, person, t0, state_at(truth, person, t0, t0), horizons)
        for h, (p_adm, p_death) in risks.items():
            label = observed_emergency(truth, person, t0, h)
            died = (pr["death_day"][person] >= as_of) & (pr["death_day"][person] < as_of + h)
            frames.append(pd.DataFrame({
                "patient_id": ids[person], "index_date": as_of, "horizon_days": h,
                "p_admission": p_adm, "p_admission_or_death": p_adm + p_death,
                "label": label, "label_or_death": label | died,
            }))  # fmt: skip
    out = pd.concat(frames, ignore_index=True)
    out["index_date"] = pd.to_datetime(out["index_date"].to_numpy().astype("datetime64[D]"))
    return out


def readmission_table(truth_dir: Path) -> pd.DataFrame:
    """Oracle 30-day emergency readmission risk for every discharge alive by the extract date."""
    truth = load_truth(truth_dir)
    sp = truth.spells
    pos = np.flatnonzero((sp["discharge"] <= truth.day1) & (sp["destination"] != DIED))
    person, t0 = sp["person"][pos], sp["discharge"][pos]
    state = state_at(truth, person, t0, sp["origin"][pos] + 1)
    p, _ = replay(truth, person, t0, state, (READMISSION_DAYS,))[READMISSION_DAYS]
    ids = np.array(list(truth.ids), dtype=object)
    spell_ids = np.array(list(truth.spell_index), dtype=object)
    method, dest = sp["method"][pos], sp["destination"][pos]
    return pd.DataFrame({
        "index_spell_id": spell_ids[pos], "patient_id": ids[person],
        "discharge_date": pd.to_datetime(t0.astype("datetime64[D]")),
        "admission_method": np.array(ADMISSION_METHODS, dtype=object)[method],
        "discharge_destination": np.array(DISCHARGE_DESTINATIONS, dtype=object)[dest],
        "eligible": (dest != OTHER_HOSPITAL) & (method != MATERNITY),
        "mature": t0 + READMISSION_DAYS - 1 <= truth.day1,
        "p_readmission": p,
        "label": observed_emergency(
            truth, person, t0, READMISSION_DAYS, not_before=sp["origin"][pos] + 1
        ),
    })  # fmt: skip


def write_precomputed(truth_dir: Path) -> dict[str, float]:
    """Write truth/crisis.parquet and truth/readmission.parquet; return the oracle's AUROCs."""
    crisis = crisis_table(truth_dir)
    readm = readmission_table(truth_dir)
    pq.write_table(to_arrow(crisis), truth_dir / "crisis.parquet")
    pq.write_table(to_arrow(readm), truth_dir / "readmission.parquet")
    return oracle_aurocs(crisis, readm)


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def oracle_aurocs_from_files(truth_dir: Path) -> dict[str, float]:
    """oracle_aurocs from truth/crisis.parquet and truth/readmission.parquet (as written in
    parts by a chunked synth), reading only the columns it needs."""
    crisis = pq.read_table(
        truth_dir / "crisis.parquet",
        columns=["index_date", "horizon_days", "label", "p_admission"],
        filters=[("horizon_days", "=", 90)],
    ).to_pandas()
    readm = pq.read_table(
        truth_dir / "readmission.parquet", columns=["eligible", "mature", "label", "p_readmission"]
    ).to_pandas()
    return oracle_aurocs(crisis, readm)


def _auc(label: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(label, score)) if 0 < label.sum() < label.size else float("nan")


def oracle_aurocs(crisis: pd.DataFrame, readm: pd.DataFrame) -> dict[str, float]:
    """AUROC of the oracle at the latest 90-day as-of date, and over mature eligible discharges."""
    c90 = crisis[crisis["horizon_days"] == 90]
    c90 = c90[c90["index_date"] == c90["index_date"].max()]
    r = readm[readm["eligible"] & readm["mature"]]
    return {
        "oracle_auroc_crisis_90d": _auc(c90["label"].to_numpy(), c90["p_admission"].to_numpy()),
        "crisis_90d_prevalence": float(c90["label"].mean()),
        "oracle_auroc_readmission_30d": _auc(r["label"].to_numpy(), r["p_readmission"].to_numpy()),
        "readmission_30d_rate": float(r["label"].mean()),
    }
