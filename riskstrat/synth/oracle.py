"""The oracle: true event probabilities under the generating process, for arbitrary index rows.

Given everything before index_date (the person's history, latent state) and the exogenous
schedules the simulation drew ahead (registration end, diagnosis dates, planned admissions, and
the discharge/death of a stay already under way), hazards are deterministic until the next
emergency admission or death. So P(first emergency admission in [index_date, index_date + h)) is
exact from the daily probabilities, with out-of-hospital death as a competing risk (up to floating
point rounding). See docs/synthetic.md for what this conditions on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from riskstrat.synth import params as P
from riskstrat.synth.activity import key
from riskstrat.synth.hazard import NEVER, daily_probs
from riskstrat.synth.truth import Truth, load_truth

UNKNOWN_PATIENT = "oracle: {count} index rows have a patient_id not in the ground truth"
UNKNOWN_SPELL = "oracle: {count} index rows have an index_spell_id not in the ground truth"
MISSING_INDEX_COLUMN = "oracle: index lacks column {column!r}"
BAD_HORIZON = "oracle: horizon_days must be a positive integer, got {value!r}"
READMISSION_DAYS = 30
_EARLIEST = -(10**5)


def _days(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]").astype(np.int64)


def _persons(truth: Truth, patient_id: pd.Series) -> np.ndarray:
    idx = patient_id.astype(str).map(truth.ids)
    if idx.isna().any():
        raise KeyError(UNKNOWN_PATIENT.format(count=int(idx.isna().sum())))
    return idx.to_numpy(dtype=np.int64)


def _expand(sorted_key: np.ndarray, person: np.ndarray, t0: np.ndarray, h: int) -> tuple:
    """(row, event position) pairs for events of each row's person dated in [t0, t0 + h)."""
    lo = np.searchsorted(sorted_key, key(person, t0))
    hi = np.searchsorted(sorted_key, key(person, t0 + h))
    count = hi - lo
    row = np.repeat(np.arange(person.size), count)
    pos = np.repeat(lo, count) + np.arange(row.size) - np.repeat(np.cumsum(count) - count, count)
    return row, pos


def state_at(truth: Truth, person: np.ndarray, t0: np.ndarray, cutoff: np.ndarray) -> dict:
    """The hazard state at the start of day t0, from episodes that began before `cutoff`."""
    pr = truth.persons
    first = key(person, np.full(person.size, _EARLIEST))
    below = key(person, t0)
    o_lo = np.searchsorted(truth.onset_key, first)
    o_hi = np.searchsorted(truth.onset_key, below)
    cum_b = np.concatenate([[0.0], np.cumsum(truth.onset_dlb)])
    cum_m = np.concatenate([[0.0], np.cumsum(truth.onset_dlm)])
    n_em = np.searchsorted(truth.emergency_key, key(person, cutoff)) - np.searchsorted(
        truth.emergency_key, first
    )
    prior_counted = np.clip(P.PRIOR_CAP - pr["prior"][person], 0, n_em)
    lb = pr["lb"][person] + (cum_b[o_hi] - cum_b[o_lo])
    lb = lb + P.B_FRAILTY * P.FRAILTY_JUMP * n_em + P.B_PRIOR * prior_counted
    lm = pr["lm"][person] + (cum_m[o_hi] - cum_m[o_lo]) + P.DEATH_FRAILTY * P.FRAILTY_JUMP * n_em
    ep = np.searchsorted(truth.episode_key, key(person, cutoff)) - 1
    has_ep = (ep >= 0) & (ep >= np.searchsorted(truth.episode_key, first))
    ep = np.maximum(ep, 0)
    end = np.where(has_ep, truth.episode_end[ep], NEVER)
    death_day = pr["death_day"][person]
    return {
        "lb": lb, "lm": lm, "free_from": end + 1,
        "bump_day": np.where(has_ep, end, NEVER),
        "bump_amp": np.where(has_ep, truth.episode_amp[ep], 0.0),
        "dead": death_day < t0,
        "dies_in_hospital": np.where(has_ep & truth.episode_died[ep] & (end >= t0), end, NEVER),
    }  # fmt: skip


def replay(
    truth: Truth, person: np.ndarray, t0: np.ndarray, state: dict, horizons: tuple[int, ...]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Replay days t0 .. t0+max(h)-1: P(first emergency admission), P(death first) by horizon."""
    pr = truth.persons
    h_max = max(horizons)
    n = person.size
    lb, lm = state["lb"].copy(), state["lm"].copy()
    free_from, bump_day = state["free_from"].copy(), state["bump_day"].copy()
    bump_amp = state["bump_amp"].copy()
    survive = np.where(state["dead"], 0.0, 1.0)
    p_adm, p_death = np.zeros(n), np.zeros(n)
    o_row, o_pos = _expand(truth.onset_key, person, t0, h_max)
    o_k = (truth.onset_key[o_pos] % (1 << 21) - (1 << 20)) - t0[o_row]
    o_order = np.argsort(o_k, kind="stable")
    o_row, o_pos, o_k = o_row[o_order], o_pos[o_order], o_k[o_order]
    o_cut = np.searchsorted(o_k, np.arange(h_max + 1))
    p_row, p_pos = _expand(truth.planned_key, person, t0, h_max)
    p_k = truth.planned["day"][p_pos] - t0[p_row]
    p_order = np.argsort(p_k, kind="stable")
    p_row, p_pos, p_k = p_row[p_order], p_pos[p_order], p_k[p_order]
    p_cut = np.searchsorted(p_k, np.arange(h_max + 1))
    entry, leave = pr["entry"][person], pr["leave"][person]
    dob, g, gm = pr["dob"][person], pr["g"][person], pr["gm"][person]
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in range(h_max):
        t = t0 + k
        s = slice(o_cut[k], o_cut[k + 1])
        np.add.at(lb, o_row[s], truth.onset_dlb[o_pos[s]])
        np.add.at(lm, o_row[s], truth.onset_dlm[o_pos[s]])
        s = slice(p_cut[k], p_cut[k + 1])
        if s.stop > s.start:
            rows, pos = p_row[s], p_pos[s]
            _, first = np.unique(rows, return_index=True)
            rows, pos = rows[first], pos[first]
            ok = (
                (entry[rows] <= t[rows]) & (t[rows] < leave[rows])
                & (free_from[rows] <= t[rows]) & (survive[rows] > 0)
            )  # fmt: skip
            rows, pos = rows[ok], pos[ok]
            los = truth.planned["los"][pos]
            free_from[rows] = t[rows] + los + 1
            bump_day[rows] = t[rows] + los
            maternity = truth.planned["maternity"][pos]
            bump_amp[rows] = np.where(maternity, P.BUMP_AMP["maternity"], P.BUMP_AMP["elective"])
        pa_, pd_ = daily_probs(
            t, day0=truth.day0, dob=dob, lb=lb, g=g, lm=lm, gm=gm,
            bump_day=bump_day, bump_amp=bump_amp, calendar=truth.calendar,
        )  # fmt: skip
        free = (free_from <= t) & (entry <= t) & (t < leave)
        a = np.where(free, pa_, 0.0)
        d = np.where(free, (1 - pa_) * pd_, 0.0)
        p_adm += survive * a
        p_death += survive * d
        survive = survive * (1 - a - d)
        dies = state["dies_in_hospital"] == t
        p_death += np.where(dies, survive, 0.0)
        survive = np.where(dies, 0.0, survive)
        if k + 1 in horizons:
            out[k + 1] = (p_adm.copy(), p_death.copy())
    return out


def _check_horizon(value: object) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(BAD_HORIZON.format(value=value))
    return int(value)


def crisis_risks(
    truth_dir: Path | str, index: pd.DataFrame, *, horizons: tuple[int, ...]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Several horizons in one pass: horizon -> (P(admission first), P(death first))."""
    for column in ("patient_id", "index_date"):
        if column not in index.columns:
            raise KeyError(MISSING_INDEX_COLUMN.format(column=column))
    horizons = tuple(_check_horizon(h) for h in horizons)
    truth = load_truth(truth_dir)
    person = _persons(truth, index["patient_id"])
    t0 = _days(index["index_date"])
    return replay(truth, person, t0, state_at(truth, person, t0, t0), horizons)


def crisis_risk(
    truth_dir: Path | str, index: pd.DataFrame, *, horizon_days: int, count_death: bool = False
) -> np.ndarray:
    """True P(emergency admission with index_date <= admission < index_date + horizon_days);
    with count_death, P(emergency admission or death in the window)."""
    horizon_days = _check_horizon(horizon_days)
    p_adm, p_death = crisis_risks(truth_dir, index, horizons=(horizon_days,))[horizon_days]
    return p_adm + p_death if count_death else p_adm


def index_spells(truth: Truth, index: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Each index row's person, discharge day and history cut-off (the day after admission),
    looked up by index_spell_id in the truth's spells."""
    if "index_spell_id" not in index.columns:
        raise KeyError(MISSING_INDEX_COLUMN.format(column="index_spell_id"))
    pos = index["index_spell_id"].astype(str).map(truth.spell_index)
    if pos.isna().any():
        raise KeyError(UNKNOWN_SPELL.format(count=int(pos.isna().sum())))
    pos = pos.to_numpy(dtype=np.int64)
    spells = truth.spells
    return spells["person"][pos], spells["discharge"][pos], spells["origin"][pos] + 1


def readmission_risk(truth_dir: Path | str, index: pd.DataFrame) -> np.ndarray:
    """True P(emergency admission within 30 days of the index spell's discharge
    (discharge_date <= admission < discharge_date + 30)). Died in hospital: 0."""
    truth = load_truth(truth_dir)
    person, t0, cutoff = index_spells(truth, index)
    state = state_at(truth, person, t0, cutoff)
    p_adm, _ = replay(truth, person, t0, state, (READMISSION_DAYS,))[READMISSION_DAYS]
    return p_adm


def observed_emergency(
    truth: Truth,
    person: np.ndarray,
    t0: np.ndarray,
    h: int,
    *,
    not_before: np.ndarray | None = None,
) -> np.ndarray:
    """Whether an emergency admission actually happened in [t0, t0 + h) in the simulation
    (and on or after not_before: readmission excludes the index episode's own admission)."""
    start = t0 if not_before is None else np.maximum(t0, not_before)
    lo = np.searchsorted(truth.emergency_key, key(person, start))
    hi = np.searchsorted(truth.emergency_key, key(person, t0 + h))
    return hi > lo
