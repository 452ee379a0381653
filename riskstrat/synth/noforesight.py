"""The no-foresight oracle: the true hazard with the pre-drawn schedules redrawn by Monte Carlo.

The full oracle (riskstrat.synth.oracle) knows the schedules the generator drew before the
simulation: future diagnoses and the medicines started with them, planned (elective, maternity)
admissions and the day a person will move away. No model can know them. This oracle keeps
everything known at the index date (the latent state and the history, as the full oracle) and
replaces each schedule inside the window with draws from the generator's own laws, conditional
on the index date:

- diagnoses: for every register a person is not on at index, a new diagnosis after an
  exponential wait at the person's yearly incidence rate (memoryless: the same law as the
  generator's), dated after the register's minimum age and by the extract date; the medicines
  that come with it (REGISTER_MEDS probabilities, unless already held at index);
- planned admissions: a Poisson process at the generator's elective rate (age at the period's
  middle, conditions ever in the period: those held at index plus the redrawn ones) and
  maternity rate, with lengths of stay from the generator's laws;
- moving away: registered at index, so the remaining time is exponential (memoryless).

The discharge day of a stay already under way at the index date is still taken from the truth
(as the full oracle does). The result is the mean over `draws` replays; its Monte Carlo standard
error per row is returned with it (docs/synthetic.md).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from riskstrat.synth import params as P
from riskstrat.synth.activity import key
from riskstrat.synth.oracle import (
    MISSING_INDEX_COLUMN,
    READMISSION_DAYS,
    _check_horizon,
    _days,
    _persons,
    index_spells,
    replay,
    state_at,
)
from riskstrat.synth.population import NO_DAY
from riskstrat.synth.truth import Truth, load_truth

BAD_DRAWS = "no-foresight oracle: draws must be at least 2, got {value!r}"
_ADM = np.array([r.admission for r in P.REGISTERS])
_DEATH = np.array([r.death for r in P.REGISTERS])
_MIN_AGE_DAYS = np.array([int(r.min_age * 365.25) for r in P.REGISTERS])
_MEDS = {
    P.REGISTER_INDEX[reg]: [(P.BNF_CODES.index(code), prob) for code, prob in meds]
    for reg, meds in P.REGISTER_MEDS.items()
}


@lru_cache(maxsize=4)
def _laws(path: str, mtime: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    root = Path(path)
    laws = pq.read_table(root / "laws.parquet")
    onset = np.column_stack([laws.column(f"onset_{r.code}").to_numpy() for r in P.REGISTERS])
    rate = np.column_stack([laws.column(f"rate_{r.code}").to_numpy() for r in P.REGISTERS])
    meds = pq.read_table(root / "medicines.parquet")
    med_key = meds.column("person").to_numpy().astype(np.int64) * 64 + meds.column(
        "code"
    ).to_numpy().astype(np.int64)
    order = np.argsort(med_key, kind="stable")
    return onset.astype(np.int64), rate, med_key[order], meds.column("start").to_numpy()[order]


def _draw(
    rng: np.random.Generator, truth: Truth, laws: tuple, person: np.ndarray, t0: np.ndarray, h: int
) -> Truth:
    """A Truth whose 'persons' are the index rows, with the window's schedules redrawn."""
    onset_all, rate_all, med_key, med_start = laws
    n, day0, day1 = person.size, truth.day0, truth.day1
    pr = truth.persons
    dob = pr["dob"][person]
    held = onset_all[person] < t0[:, None]
    rate = rate_all[person]
    wait = rng.exponential(1.0, (n, len(P.REGISTERS))) / np.maximum(rate, 1e-12) * 365.25
    when = t0[:, None] + np.minimum(wait, 10**6).astype(np.int64)
    new = ~held & (rate > 0) & (when <= day1) & (when >= dob[:, None] + _MIN_AGE_DAYS[None, :])
    n_cond = (held | new).sum(1)
    row, reg = np.nonzero(new & (when < t0[:, None] + h))
    day = when[row, reg]
    o_row, o_day, o_dlb, o_dlm = [row], [day], [_ADM[reg]], [_DEATH[reg]]
    # medicines started with the new diagnoses (one item per person and code, earliest start)
    m_row, m_code, m_day = [], [], []
    for j, meds in _MEDS.items():
        sel = reg == j
        for code, prob in meds:
            on = sel & (rng.random(sel.size) < prob)
            m_row.append(row[on]), m_code.append(np.full(on.sum(), code)), m_day.append(day[on])
    m_row, m_code, m_day = (np.concatenate(v) for v in (m_row, m_code, m_day))
    mk = person[m_row].astype(np.int64) * 64 + m_code
    pos = np.clip(np.searchsorted(med_key, mk), 0, max(med_key.size - 1, 0))
    had = (med_key.size > 0) & (med_key[pos] == mk) & (med_start[pos] < t0[m_row])
    m_row, m_code, m_day = m_row[~had], m_code[~had], m_day[~had]
    order = np.lexsort((m_day, m_code, m_row))
    m_row, m_code, m_day = m_row[order], m_code[order], m_day[order]
    first = np.ones(m_row.size, dtype=bool)
    first[1:] = (m_row[1:] != m_row[:-1]) | (m_code[1:] != m_code[:-1])
    o_row.append(m_row[first]), o_day.append(m_day[first])
    o_dlb.append(np.full(first.sum(), P.B_POLYPHARMACY)), o_dlm.append(np.zeros(first.sum()))
    o_row, o_day, o_dlb, o_dlm = (np.concatenate(v) for v in (o_row, o_day, o_dlb, o_dlm))
    o_key = key(o_row, o_day)
    o_order = np.argsort(o_key, kind="stable")
    # planned admissions in the window
    mid_age = (day0 + (day1 - day0) / 2 - dob) / 365.25
    el = np.interp(mid_age, P.ELECTIVE_RATE_KNOTS, P.ELECTIVE_RATE)
    el = el * np.exp(P.ELECTIVE_CONDITION * np.minimum(n_cond, 6))
    woman = (pr["sex"][person] == 0) & (mid_age >= 19) & (mid_age < 44)
    k_el = rng.poisson(el * h / 365.25)
    k_mat = rng.poisson(np.where(woman, P.MATERNITY_RATE * h / 365.25, 0.0))
    p_row = np.concatenate([np.repeat(np.arange(n), k_el), np.repeat(np.arange(n), k_mat)])
    mat = np.concatenate([np.zeros(k_el.sum(), bool), np.ones(k_mat.sum(), bool)])
    p_day = t0[p_row] + (rng.random(p_row.size) * h).astype(np.int64)
    age = (p_day - dob[p_row]) / 365.25
    mu, slope, sigma = P.LOS_ELECTIVE
    los = np.round(np.exp(mu + slope * np.maximum(age - 50, 0) + rng.normal(0, sigma, p_row.size)))
    los = np.where(rng.random(p_row.size) < P.LOS_ZERO_ELECTIVE, 0, np.maximum(los, 1))
    los = np.where(mat, rng.choice([0, 1, 1, 2, 3], p_row.size), los).astype(np.int64)
    p_order = np.lexsort((p_day, p_row))
    # moving away: registered at index, the remaining time is exponential
    move = t0 + np.ceil(rng.exponential(365.25 / P.MOVE_AWAY_PER_YEAR, n)).astype(np.int64)
    leave = np.where(move <= day1, move, NO_DAY)
    persons = {
        "entry": pr["entry"][person], "leave": leave, "dob": dob,
        "g": pr["g"][person], "gm": pr["gm"][person],
    }  # fmt: skip
    planned = {"day": p_day[p_order], "los": los[p_order], "maternity": mat[p_order]}
    return replace(
        truth, persons=persons, onset_key=o_key[o_order], onset_dlb=o_dlb[o_order],
        onset_dlm=o_dlm[o_order], planned_key=key(p_row[p_order], p_day[p_order]),
        planned=planned,
    )  # fmt: skip


def crisis_risk_no_foresight(
    truth_dir: Path | str,
    index: pd.DataFrame,
    *,
    horizon_days: int,
    draws: int = 20,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """P(emergency admission in [index_date, index_date + horizon_days)) without foresight of
    the schedules: (mean over `draws` Monte Carlo replays, its standard error per row)."""
    for column in ("patient_id", "index_date"):
        if column not in index.columns:
            raise KeyError(MISSING_INDEX_COLUMN.format(column=column))
    h = _check_horizon(horizon_days)
    if not isinstance(draws, int) or draws < 2:
        raise ValueError(BAD_DRAWS.format(value=draws))
    truth = load_truth(truth_dir)
    person = _persons(truth, index["patient_id"])
    t0 = _days(index["index_date"])
    return _monte_carlo(truth_dir, truth, person, t0, t0, h=h, draws=draws, seed=seed)


def readmission_risk_no_foresight(
    truth_dir: Path | str, index: pd.DataFrame, *, draws: int = 20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """P(emergency admission within 30 days of the index spell's discharge) without foresight
    of the schedules (as riskstrat.synth.oracle.readmission_risk otherwise)."""
    if "index_spell_id" not in index.columns:
        raise KeyError(MISSING_INDEX_COLUMN.format(column="index_spell_id"))
    if not isinstance(draws, int) or draws < 2:
        raise ValueError(BAD_DRAWS.format(value=draws))
    truth = load_truth(truth_dir)
    person, t0, cutoff = index_spells(truth, index)
    return _monte_carlo(
        truth_dir, truth, person, t0, cutoff, h=READMISSION_DAYS, draws=draws, seed=seed
    )


def _monte_carlo(
    truth_dir: Path | str,
    truth: Truth,
    person: np.ndarray,
    t0: np.ndarray,
    cutoff: np.ndarray,
    *,
    h: int,
    draws: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    root = Path(truth_dir).resolve()
    laws = _laws(str(root), (root / "laws.parquet").stat().st_mtime)
    state = state_at(truth, person, t0, cutoff)
    rng = np.random.default_rng(seed)
    runs = np.empty((draws, person.size))
    rows = np.arange(person.size)
    for k in range(draws):
        virtual = _draw(rng, truth, laws, person, t0, h)
        runs[k] = replay(virtual, rows, t0, state, (h,))[h][0]
    return runs.mean(0), runs.std(0, ddof=1) / np.sqrt(draws)
