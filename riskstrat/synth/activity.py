"""Activity that follows from the people and their hospital history but does not drive hazards:
A&E attendances, GP contacts, prescriptions and observations (vectorised, per table).

Each returns a dict of numpy columns (person indices, days since 1970) for riskstrat.synth.tables.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from riskstrat.synth import params as P
from riskstrat.synth.population import NO_DAY, Population
from riskstrat.synth.simulate import DIED, EMERGENCY, History

Columns = dict[str, np.ndarray | pa.Array]
_HOUR_WEIGHTS = np.array([2, 1.5, 1, 1, 1, 1, 1.5, 2, 3, 4.5, 5.5, 6, 6, 6, 5.5, 5.5, 5.5, 5.5,
                          5.5, 5, 4.5, 4, 3.5, 2.5])  # fmt: skip


def key(person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """One sortable int64 per (person, day)."""
    return person.astype(np.int64) * (1 << 21) + (day.astype(np.int64) + (1 << 20))


def windows(pop: Population, hist: History, *, day0: int, day1: int) -> tuple[np.ndarray, ...]:
    """Each person's observed window [lo, hi): registered, alive, inside the extract."""
    lo = np.maximum(pop.entry, day0)
    dead_after = np.where(hist.death_day < NO_DAY, hist.death_day + 1, NO_DAY)
    hi = np.minimum(np.minimum(pop.leave, dead_after), day1 + 1)
    return lo, np.maximum(hi, lo)


def poisson_days(
    rng: np.random.Generator, rate: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A Poisson process per person with a yearly rate on [lo, hi): (person, day)."""
    span = np.maximum(hi - lo, 0).astype(np.float64)
    k = rng.poisson(np.maximum(rate, 0) * span / 365.25)
    person = np.repeat(np.arange(rate.size), k)
    day = lo[person] + (rng.random(person.size) * span[person]).astype(np.int64)
    return person, day


def unique_events(
    person: np.ndarray, day: np.ndarray, code: np.ndarray, *, codes: int
) -> np.ndarray:
    """Positions of the first of each distinct (person, day, code), in that sort order: the
    tables have no key, so an exact duplicate row would look like a data error at ingest."""
    combined = key(person, day) * codes + code
    _, first = np.unique(combined, return_index=True)
    return first


def labels(vocabulary: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    """A string column from small integer codes, built in Arrow (no Python string per row)."""
    return pa.array(list(vocabulary), pa.string()).take(pa.array(index))


def _has(pop: Population, code: str) -> np.ndarray:
    """Ever on the register (up to any future date): only for upper bounds of rates."""
    return pop.onset[:, P.REGISTER_INDEX[code]] < NO_DAY


def on_register(pop: Population, code: str, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """On the register on that day (diagnosed by then, not yet resolved): status at the time."""
    j = P.REGISTER_INDEX[code]
    return (pop.onset[person, j] <= day) & (day < pop.resolved[person, j])


def conditions_on(pop: Population, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Number of registers each (person, day) is on that day."""
    count = np.zeros(person.size, dtype=np.int64)
    for j in range(pop.onset.shape[1]):
        count += (pop.onset[person, j] <= day) & (day < pop.resolved[person, j])
    return count


def thin(rng: np.random.Generator, keep_share: np.ndarray) -> np.ndarray:
    """Keep each event with the given probability: a Poisson process drawn at its highest rate,
    thinned to the rate at the time (Lewis-Shedler), so no rate uses a later status."""
    return rng.random(keep_share.size) < keep_share


def ae_attendances(
    rng: np.random.Generator, pop: Population, hist: History, *, day0: int, day1: int
) -> Columns:
    """Admissions arriving via A&E (disposal admitted), other attendances, and deaths in A&E."""
    lo, hi = windows(pop, hist, day0=day0, day1=day1)
    em = (hist.method == EMERGENCY) & (hist.admission <= day1)
    via = em & (rng.random(em.size) < P.VIA_AE)
    adm_person, adm_day = hist.person[via], hist.admission[via]
    age = (day0 - pop.dob) / 365.25
    ages = np.array(list(P.AE_AGE))
    factor = np.array(list(P.AE_AGE.values()))[np.searchsorted(ages, age, side="right") - 1]
    depriv = (10 - pop.imd) / 9.0
    mental = _has(pop, "MH") | _has(pop, "DEP")  # ever: the highest rate, thinned below
    w = factor * np.exp(0.5 * depriv + 0.25 * np.clip(pop.frailty0, -2, 3) + 0.4 * mental)
    person, day = poisson_days(rng, P.AE_RATE * w / w.mean(), lo, hi)
    now = on_register(pop, "MH", person, day) | on_register(pop, "DEP", person, day)
    keep = thin(rng, np.exp(0.4 * (now.astype(np.float64) - mental[person])))
    person, day = person[keep], day[keep]
    # no attendance while in hospital
    order = np.argsort(key(hist.person, hist.admission), kind="stable")
    spell_key = key(hist.person, hist.admission)[order]
    at = np.searchsorted(spell_key, key(person, day), side="right") - 1
    inside = (at >= 0) & (hist.person[order][np.maximum(at, 0)] == person)
    inside &= hist.discharge[order][np.maximum(at, 0)] >= day
    person, day = person[~inside], day[~inside]
    disp_names = list(P.AE_DISPOSALS)
    disp_p = np.array(list(P.AE_DISPOSALS.values()))
    disposal = rng.choice(len(disp_names), person.size, p=disp_p / disp_p.sum())
    out_of_hosp = (hist.death_day <= day1) & np.isin(
        np.arange(pop.dob.size), hist.person[hist.destination == DIED], invert=True
    )
    died = np.flatnonzero(out_of_hosp & (rng.random(pop.dob.size) < P.AE_DEATH_SHARE))
    persons = np.concatenate([adm_person, person, died])
    days = np.concatenate([adm_day, day, hist.death_day[died]])
    names = ["admitted", *disp_names, "died"]
    disp = np.concatenate(
        [np.zeros(adm_person.size, np.int64), disposal + 1, np.full(died.size, len(names) - 1)]
    )
    hour = rng.choice(24, persons.size, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    seconds = days * P.SECONDS_PER_DAY + hour * 3600 + rng.integers(0, 3600, persons.size)
    order = np.lexsort((persons, seconds))
    return {
        "person": persons[order],
        "seconds": seconds[order],
        "disposal": labels(names, disp[order]),
    }


def gp_contacts(
    rng: np.random.Generator, pop: Population, hist: History, *, day0: int, day1: int
) -> Columns:
    """Contacts at a rate rising with age, conditions and frailty; missed appointments more
    common with deprivation and mental illness."""
    lo, hi = windows(pop, hist, day0=day0, day1=day1)
    age = (day0 - pop.dob) / 365.25
    ages = np.array(list(P.GP_BASE))
    base = np.array(list(P.GP_BASE.values()))[np.searchsorted(ages, age, side="right") - 1]
    ever = 1 + P.GP_PER_CONDITION * (pop.onset < NO_DAY).sum(1)  # the highest rate, thinned
    rate = base * ever * np.exp(0.15 * np.clip(pop.frailty0, -2, 3))
    person, day = poisson_days(rng, rate, lo, hi)
    now = 1 + P.GP_PER_CONDITION * conditions_on(pop, person, day)
    keep = thin(rng, now / ever[person])
    person, day = person[keep], day[keep]
    modes = list(P.GP_MODES)
    p = np.array(list(P.GP_MODES.values()))
    mode = rng.choice(len(modes), person.size, p=p / p.sum())
    home = modes.index("home_visit")
    old = (day - pop.dob[person]) / 365.25 >= 75
    mode = np.where((mode == home) & ~old & ~pop.care_home[person], 0, mode)
    a, b_dep, b_mental = P.GP_DNA
    depriv = (10 - pop.imd[person]) / 9.0
    mental = on_register(pop, "MH", person, day) | on_register(pop, "DEP", person, day)
    p_dna = 1 / (1 + np.exp(-(a + b_dep * depriv + b_mental * mental)))
    attended = ~(rng.random(person.size) < p_dna) | (mode == home) | (mode == modes.index("online"))
    keep = unique_events(person, day, mode * 2 + attended, codes=2 * len(modes))
    return {
        "person": person[keep],
        "day": day[keep],
        "mode": labels(modes, mode[keep]),
        "attended": attended[keep],
    }


def prescriptions(
    rng: np.random.Generator, pop: Population, hist: History, *, day0: int, day1: int
) -> Columns:
    """Repeat items every 28-56 days while registered and alive; a few acute items."""
    lo, hi = windows(pop, hist, day0=day0, day1=day1)
    person = pop.med_person
    interval = rng.integers(P.REPEAT_INTERVAL[0], P.REPEAT_INTERVAL[1] + 1, person.size)
    first = np.maximum(pop.med_start, lo[person]) + (rng.random(person.size) * interval).astype(
        np.int64
    )
    stop = hi[person]
    count = np.where(stop > first, (stop - first + interval - 1) // interval, 0)
    item = np.repeat(np.arange(person.size), count)
    step = np.arange(item.size) - np.repeat(np.cumsum(count) - count, count)
    rep_person = person[item]
    rep_day = first[item] + step * interval[item]
    rep_code = pop.med_code[item].astype(np.int64)
    ac_person, ac_day = poisson_days(rng, np.full(pop.dob.size, P.ACUTE_RATE), lo, hi)
    index = {code: i for i, code in enumerate(P.BNF_CODES)}
    ac_codes = np.array([index[c] for c in P.ACUTE_CODES])
    ac_code = ac_codes[rng.integers(0, ac_codes.size, ac_person.size)]
    persons = np.concatenate([rep_person, ac_person])
    days = np.concatenate([rep_day, ac_day])
    codes = np.concatenate([rep_code, ac_code])
    keep = unique_events(persons, days, codes, codes=len(P.BNF_CODES))
    return {
        "person": persons[keep],
        "day": days[keep],
        "bnf_code": labels(P.BNF_CODES, codes[keep]),
    }


def observations(
    rng: np.random.Generator, pop: Population, hist: History, *, day0: int, day1: int
) -> Columns:
    """hba1c (diabetes), egfr (CKD), sbp, bmi and the electronic frailty index (65+)."""
    lo, hi = windows(pop, hist, day0=day0, day1=day1)
    n = pop.dob.size
    age = (day0 - pop.dob) / 365.25
    adult = age >= 18
    dm, ckd, hyp = (_has(pop, c) for c in ("DM", "CKD", "HYP"))
    onset = {c: pop.onset[:, P.REGISTER_INDEX[c]] for c in ("DM", "CKD", "HYP")}
    parts: list[tuple[np.ndarray, np.ndarray, str, np.ndarray]] = []

    def add(code: str, rate: np.ndarray, start: np.ndarray, value, keep=None) -> None:
        person, day = poisson_days(rng, rate, np.maximum(lo, start), np.maximum(hi, lo))
        if keep is not None:  # thinned to the rate at the time (status on that day)
            ok = thin(rng, keep(person, day))
            person, day = person[ok], day[ok]
        parts.append((person, day, code, value(person, day)))

    level = rng.normal(0, 1, n)  # each person's usual level
    rates = P.OBSERVATION_RATES
    add(
        "hba1c",
        np.where(dm, rates["hba1c"], 0),
        np.where(dm, onset["DM"], lo),
        lambda p, d: np.clip(58 + 10 * level[p] + rng.normal(0, 6, p.size), 30, 130),
    )
    add(
        "egfr",
        np.where(ckd, rates["egfr"], np.where(dm, 0.8, 0)),
        np.where(ckd, onset["CKD"], np.where(dm, onset["DM"], lo)),
        lambda p, d: np.clip(
            np.where(ckd[p], 42, 82) + 10 * level[p] + rng.normal(0, 4, p.size), 5, 120
        ),
    )
    sbp_other = np.where(age >= 40, 0.3, 0)
    sbp_max = np.where(hyp, 1.5, sbp_other)  # ever hypertensive: the highest rate, thinned
    add(
        "sbp",
        sbp_max * rates["sbp"],
        lo,
        lambda p, d: np.round(
            np.clip(
                np.where(on_register(pop, "HYP", p, d), 140, 126)
                + 8 * level[p]
                + rng.normal(0, 10, p.size),
                85,
                220,
            )
        ),
        keep=lambda p, d: np.where(on_register(pop, "HYP", p, d), 1.5, sbp_other[p]) / sbp_max[p],
    )
    add(
        "bmi",
        np.where(adult, rates["bmi"], 0),
        lo,
        lambda p, d: np.round(
            np.clip(
                np.where(on_register(pop, "OB", p, d), 34, 26)
                + 3 * level[p]
                + rng.normal(0, 1, p.size),
                14,
                60,
            ),
            1,
        ),
    )
    em = hist.method == EMERGENCY
    em_key = np.sort(key(hist.person[em], hist.admission[em]))

    def efi(p: np.ndarray, d: np.ndarray) -> np.ndarray:
        n_em = np.searchsorted(em_key, key(p, d)) - np.searchsorted(em_key, key(p, d * 0 - 10**5))
        frail = pop.frailty0[p] + pop.drift[p] * (d - day0) + P.FRAILTY_JUMP * n_em
        n_cond = (pop.onset[p] < d[:, None]).sum(1)
        raw = 0.025 * n_cond + 0.06 * (frail + 1) + rng.normal(0, 0.03, p.size)
        return np.round(np.clip(raw, 0, 1), 3)

    add("efi_score", np.where(age >= 65, rates["efi_score"], 0), lo, efi)  # fmt: skip
    person = np.concatenate([p for p, *_ in parts])
    day = np.concatenate([d for _, d, *_ in parts])
    code = np.concatenate([np.full(p.size, i) for i, (p, *_) in enumerate(parts)])
    value = np.concatenate([v for *_, v in parts]).astype(np.float64)
    names = [c for _, _, c, _ in parts]
    keep = unique_events(person, day, code, codes=len(names))
    return {"person": person[keep], "day": day[keep], "code": labels(names, code[keep]),
            "value": value[keep]}  # fmt: skip
