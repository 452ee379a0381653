"""Who lives in the synthetic system: practices, people, conditions, medicines, planned care.

Everything here is drawn once, before the daily simulation, and is exogenous to it: registration
dates, condition onsets and planned (elective, maternity) admissions. The oracle conditions on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskstrat.synth import params as P
from riskstrat.synth.hazard import ADMISSION_LUT, age_years

NO_DAY = np.iinfo(np.int32).max  # "never" for day arrays (no onset, no leaving)
R = len(P.REGISTERS)


@dataclass
class Practices:
    size: np.ndarray  # target list size
    centre: np.ndarray  # deprivation centre (decile scale)
    pcn: np.ndarray  # PCN index per practice
    capacity: np.ndarray


@dataclass
class Population:
    """One row per person; day arrays are days since 1970-01-01."""

    practice: np.ndarray
    lsoa: np.ndarray
    imd: np.ndarray
    dob: np.ndarray
    sex: np.ndarray  # index into params.SEX_SHARES
    ethnicity: np.ndarray  # index into params.ETHNICITY_SHARES
    lives_alone: np.ndarray  # -1 unrecorded, 0, 1
    care_home: np.ndarray
    opt_out: np.ndarray
    entry: np.ndarray  # registered_from
    leave: np.ndarray  # first day no longer registered (moved away); NO_DAY if not
    frailty0: np.ndarray  # latent frailty at day0
    drift: np.ndarray  # frailty units per day
    onset: np.ndarray  # (n, R) diagnosis day per register, NO_DAY if none
    resolved: np.ndarray  # (n, R) resolution day, NO_DAY if none
    med_person: np.ndarray  # repeat medicines: person, BNF code index, first day
    med_code: np.ndarray
    med_start: np.ndarray
    lb: np.ndarray  # hazard offsets at day0 (see riskstrat.synth.hazard)
    g: np.ndarray
    lm: np.ndarray
    gm: np.ndarray
    prior: np.ndarray  # latent emergency admissions before the period
    incidence: np.ndarray  # (n, R) yearly rate of a new diagnosis among those without it


def make_practices(rng: np.random.Generator, *, patients: int, practices: int) -> Practices:
    """Practice sizes around N/P with log-normal spread; PCNs of 3-5 neighbouring practices."""
    weights = rng.lognormal(0.0, P.PRACTICE_SIZE_SD, practices)
    size = np.maximum(1, np.round(weights / weights.sum() * patients)).astype(np.int64)
    size[np.argmax(size)] += patients - size.sum()  # exactly `patients` in all
    centre = rng.permutation(np.linspace(1.6, 9.4, practices)) + rng.normal(0, 0.4, practices)
    pcn = np.empty(practices, dtype=np.int64)
    i = k = 0
    while i < practices:
        step = int(rng.choice(P.PCN_SIZES))
        pcn[i : i + step] = k
        i, k = i + step, k + 1
    share = rng.uniform(*P.CAPACITY_SHARE, practices)
    capacity = np.maximum(1, np.round(size * share)).astype(np.int64)
    return Practices(size=size, centre=centre, pcn=pcn, capacity=capacity)


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    lo, hi, share = (np.array(x, dtype=np.float64) for x in zip(*P.AGE_BANDS, strict=True))
    band = rng.choice(len(share), n, p=share / share.sum())
    return lo[band] + rng.random(n) * (hi[band] - lo[band])


def _categorical(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    p = np.array(list(shares.values()))
    return rng.choice(len(p), n, p=p / p.sum()).astype(np.int8)


def _calibrate_intercept(logit: np.ndarray, eligible: np.ndarray, target: float) -> float:
    """Intercept that makes the mean probability over the denominator equal target."""
    lo, hi = -20.0, 10.0
    for _ in range(40):
        mid = (lo + hi) / 2
        p = np.where(eligible, 1 / (1 + np.exp(-(logit + mid))), 0.0)
        lo, hi = (mid, hi) if p.mean() < target else (lo, mid)
    return (lo + hi) / 2


def lsoa_deciles(rng: np.random.Generator, practices: Practices) -> np.ndarray:
    """Each practice has ~size/LSOA_SIZE areas (LSOAs) with deprivation deciles around its
    centre; one decile per area, areas numbered practice by practice."""
    n_lsoa = np.maximum(1, practices.size // P.LSOA_SIZE)
    return np.clip(
        np.round(np.repeat(practices.centre, n_lsoa) + rng.normal(0, 1.6, n_lsoa.sum())), 1, 10
    ).astype(np.int8)


def make_people(
    rng: np.random.Generator,
    *,
    practices: Practices,
    day0: int,
    day1: int,
    span: tuple[int, int] | None = None,
    lsoa_decile: np.ndarray | None = None,
) -> Population:
    """Draw every person's attributes, conditions, medicines and hazard offsets (vectorised).

    span: only people [start, stop) of the whole list (people are listed practice by practice);
    lsoa_decile: the areas' deciles drawn once for all chunks (default: drawn here first)."""
    start, stop = (0, int(practices.size.sum())) if span is None else span
    practice = np.searchsorted(np.cumsum(practices.size), np.arange(start, stop), side="right")
    n = practice.size
    n_lsoa = np.maximum(1, practices.size // P.LSOA_SIZE)
    lsoa_first = np.concatenate([[0], np.cumsum(n_lsoa)[:-1]])
    if lsoa_decile is None:
        lsoa_decile = lsoa_deciles(rng, practices)
    lsoa = lsoa_first[practice] + (rng.random(n) * n_lsoa[practice]).astype(np.int64)
    imd = lsoa_decile[lsoa]
    depriv = (10 - imd) / 9.0  # 1 = most deprived

    dob = (day1 - np.round(_ages(rng, n) * 365.25)).astype(np.int64)
    age0 = (day0 - dob) / 365.25  # negative: born during the period
    sex = _categorical(rng, P.SEX_SHARES, n)
    eth_p = np.array(list(P.ETHNICITY_SHARES.values()))
    tilt = np.array([0.0, 0.7, 0.7, 0.5, 0.5, 0.0])  # minorities more often in deprived areas
    w = eth_p[None, :] * np.exp(tilt[None, :] * depriv[:, None])
    cum = np.cumsum(w / w.sum(1, keepdims=True), axis=1)
    ethnicity = (rng.random(n)[:, None] > cum).sum(1).clip(0, len(eth_p) - 1).astype(np.int8)
    # this tilt is over the list, the mix in ETHNICITY_SHARES holds at average deprivation

    care_p = np.interp(age0, [0, 64, 65, 75, 85, 100], [0, 0, 0.004, 0.025, 0.13, 0.25])
    care_home = rng.random(n) < care_p
    alone_p = np.interp(age0, [0, 17, 18, 30, 65, 80, 100], [0, 0, 0.12, 0.15, 0.3, 0.45, 0.55])
    lives_alone = np.where(care_home, 0, (rng.random(n) < alone_p).astype(np.int8))
    lives_alone = np.where(rng.random(n) < P.LIVES_ALONE_UNRECORDED, -1, lives_alone)
    lives_alone = np.where(age0 < 18, 0, lives_alone).astype(np.int8)
    opt_out = rng.random(n) < P.DATA_OPT_OUT

    z = rng.normal(0, 1, n)
    frailty0 = z + P.FRAILTY_AGE * np.maximum(age0 - 50, 0) + 0.6 * care_home
    drift = P.FRAILTY_DRIFT * np.maximum(age0 - 40, 0) / 40 / 365.0

    onset, resolved, incidence = _conditions(
        rng, age0=age0, dob=dob, depriv=depriv, z=z, day0=day0, day1=day1
    )
    has0 = onset < day0
    med_person, med_code, med_start = _medicines(rng, onset=onset, age0=age0, day0=day0)
    n_meds0 = np.bincount(med_person[med_start < day0], minlength=n)

    # Registration: most registered before day0; some join during; some move away.
    joined_before = rng.random(n) >= P.NEW_REGISTRATION_SHARE
    back = np.minimum(day0 - dob, (rng.random(n) * 30 * 365.25).astype(np.int64))
    entry = np.where(joined_before, day0 - back, day0 + (rng.random(n) * (day1 - day0)).astype(int))
    entry = np.maximum(entry, dob)  # the newborn register at birth
    move = np.maximum(entry, day0) + np.ceil(
        rng.exponential(365.25 / P.MOVE_AWAY_PER_YEAR, n)
    ).astype(np.int64)
    leave = np.where(move <= day1, move, NO_DAY)

    adm_coef = np.array([r.admission for r in P.REGISTERS])
    death_coef = np.array([r.death for r in P.REGISTERS])
    lb = (
        P.B_FRAILTY * frailty0
        + P.B_MALE * (sex == 1)
        + P.B_DEPRIVATION * depriv
        + P.B_LIVES_ALONE * (lives_alone == 1)
        + P.B_CARE_HOME * care_home
        + has0 @ adm_coef
        + P.B_POLYPHARMACY * n_meds0
    )
    age_idx = age_years(day0, dob)
    base_rate = np.exp(lb + ADMISSION_LUT[age_idx])
    prior = rng.poisson(np.clip(age0, 0, P.PRIOR_PERIOD_YEARS) * base_rate)
    # Normalise so the average starting hazard is the age table's (terms shape the gradient).
    lb = lb - np.log(base_rate.mean() / np.exp(ADMISSION_LUT[age_idx]).mean())
    lb = lb + np.log(P.ADMISSION_SCALE) + P.B_PRIOR * np.minimum(prior, P.PRIOR_CAP)
    lm = P.DEATH_FRAILTY * frailty0 + P.DEATH_CARE_HOME * care_home + has0 @ death_coef
    lm = lm - np.log(np.exp(lm).mean())
    return Population(
        practice=practice, lsoa=lsoa, imd=imd, dob=dob, sex=sex, ethnicity=ethnicity,
        lives_alone=lives_alone, care_home=care_home, opt_out=opt_out, entry=entry, leave=leave,
        frailty0=frailty0, drift=drift, onset=onset, resolved=resolved,
        med_person=med_person, med_code=med_code, med_start=med_start,
        lb=lb, g=P.B_FRAILTY * drift, lm=lm, gm=P.DEATH_FRAILTY * drift, prior=prior,
        incidence=incidence,
    )  # fmt: skip


def _conditions(
    rng: np.random.Generator,
    *,
    age0: np.ndarray,
    dob: np.ndarray,
    depriv: np.ndarray,
    z: np.ndarray,
    day0: int,
    day1: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prevalent conditions (dated before day0), incident ones (dated within the period) and
    each person's yearly incidence rate per register (the law a no-foresight oracle redraws)."""
    n = age0.size
    onset = np.full((n, R), NO_DAY, dtype=np.int64)
    incidence = np.zeros((n, R))
    resolved = np.full((n, R), NO_DAY, dtype=np.int64)
    calib = slice(0, min(n, 50_000))
    for j, reg in enumerate(P.REGISTERS):
        eligible = age0 >= reg.min_age
        logit = reg.age_slope * (age0 - 50) / 10 + reg.deprivation * depriv + reg.frailty * z
        if reg.code == "PC":
            for code, extra in P.PC_DRIVERS.items():
                logit = logit + extra * (onset[:, P.REGISTER_INDEX[code]] < day0)
        denom = eligible if reg.adults_denominator else np.ones(n, dtype=bool)
        # aim below target at day0: incidence over the period brings it up
        target = reg.prevalence * P.PREVALENCE_BOOST.get(reg.code, 1.0)
        a = _calibrate_intercept(logit[calib], eligible[calib], target * denom[calib].mean())
        p = np.where(eligible, 1 / (1 + np.exp(-(logit + a))), 0.0)
        has = rng.random(n) < p
        earliest = np.maximum(dob + int(reg.min_age * 365.25), day0 - int(20 * 365.25))
        span = np.maximum(day0 - earliest, 1)
        onset[has, j] = (earliest + (rng.random(n) * span).astype(np.int64))[has]
        rate = reg.incidence * p / np.maximum(1 - p, 1e-6)  # per year among those without
        incidence[:, j] = rate
        when = day0 + (rng.exponential(1.0, n) / np.maximum(rate, 1e-12) * 365.25).astype(np.int64)
        old_enough = when >= dob + int(reg.min_age * 365.25)
        new = ~has & (when <= day1) & old_enough
        onset[new, j] = when[new]
        if reg.resolves:
            res = (onset[:, j] < NO_DAY) & (rng.random(n) < reg.resolves)
            end = onset[:, j] + (rng.exponential(2.0, n) * 365.25).astype(np.int64) + 1
            ok = res & (end <= day1)
            resolved[ok, j] = end[ok]
    return onset, resolved, incidence


def _medicines(
    rng: np.random.Generator, *, onset: np.ndarray, age0: np.ndarray, day0: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Repeat medicines following conditions (from diagnosis) and age; one row per item."""
    people, codes, starts = [], [], []
    index = {code: i for i, code in enumerate(P.BNF_CODES)}
    for reg_code, meds in P.REGISTER_MEDS.items():
        j = P.REGISTER_INDEX[reg_code]
        has = np.flatnonzero(onset[:, j] < np.iinfo(np.int32).max)
        for code, prob in meds:
            on = has[rng.random(has.size) < prob]
            people.append(on)
            codes.append(np.full(on.size, index[code], dtype=np.int16))
            starts.append(onset[on, j])
    old = np.flatnonzero(age0 >= 65)
    for code, prob in P.GENERAL_65:
        on = old[rng.random(old.size) < prob]
        people.append(on)
        codes.append(np.full(on.size, index[code], dtype=np.int16))
        starts.append(np.full(on.size, day0 - 365, dtype=np.int64))
    person = np.concatenate(people)
    code = np.concatenate(codes)
    start = np.concatenate(starts)
    # one item per (person, code): keep the earliest start
    order = np.lexsort((start, code, person))
    person, code, start = person[order], code[order], start[order]
    first = np.ones(person.size, dtype=bool)
    first[1:] = (person[1:] != person[:-1]) | (code[1:] != code[:-1])
    return person[first], code[first], start[first]


def onset_events(pop: Population, *, day0: int) -> tuple[np.ndarray, ...]:
    """In-period diagnoses as hazard events: (person, day, d_lb, d_lm), sorted by day."""
    adm_coef = np.array([r.admission for r in P.REGISTERS])
    death_coef = np.array([r.death for r in P.REGISTERS])
    person, reg = np.nonzero((pop.onset >= day0) & (pop.onset < NO_DAY))
    day = pop.onset[person, reg]
    d_lb, d_lm = adm_coef[reg].copy(), death_coef[reg].copy()
    # medicines started with these diagnoses add their polypharmacy term on the start day
    new_med = pop.med_start >= day0
    person = np.concatenate([person, pop.med_person[new_med]])
    day = np.concatenate([day, pop.med_start[new_med]])
    d_lb = np.concatenate([d_lb, np.full(new_med.sum(), P.B_POLYPHARMACY)])
    d_lm = np.concatenate([d_lm, np.zeros(new_med.sum())])
    order = np.argsort(day, kind="stable")
    return person[order], day[order], d_lb[order], d_lm[order]


def planned_admissions(
    rng: np.random.Generator, pop: Population, *, day0: int, day1: int
) -> tuple[np.ndarray, ...]:
    """Elective and maternity admissions drawn ahead: (person, day, los, is_maternity)."""
    n = pop.dob.size
    years = (day1 - day0 + 1) / 365.25
    mid_age = (day0 + (day1 - day0) / 2 - pop.dob) / 365.25
    n_cond = (pop.onset < NO_DAY).sum(1)
    rate = np.interp(mid_age, P.ELECTIVE_RATE_KNOTS, P.ELECTIVE_RATE)
    rate = rate * np.exp(P.ELECTIVE_CONDITION * np.minimum(n_cond, 6))
    k_el = rng.poisson(rate * years)
    woman = (pop.sex == 0) & (mid_age >= 19) & (mid_age < 44)
    k_mat = rng.poisson(np.where(woman, P.MATERNITY_RATE * years, 0.0))
    person = np.concatenate([np.repeat(np.arange(n), k_el), np.repeat(np.arange(n), k_mat)])
    maternity = np.concatenate([np.zeros(k_el.sum(), bool), np.ones(k_mat.sum(), bool)])
    day = day0 + (rng.random(person.size) * (day1 - day0 + 1)).astype(np.int64)
    age = (day - pop.dob[person]) / 365.25
    mu, slope, sigma = P.LOS_ELECTIVE
    los = np.round(np.exp(mu + slope * np.maximum(age - 50, 0) + rng.normal(0, sigma, day.size)))
    los = np.where(rng.random(day.size) < P.LOS_ZERO_ELECTIVE, 0, np.maximum(los, 1))
    los = np.where(maternity, rng.choice([0, 1, 1, 2, 3], day.size), los).astype(np.int64)
    order = np.lexsort((person, day))
    return person[order], day[order], los[order], maternity[order]
