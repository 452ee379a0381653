"""The daily simulation: all people at once per day, hospital episodes and deaths as they happen.

Order within a day (the oracle replays the same): diagnoses dated today take effect; planned
admissions dated today start if the person is registered, alive and not in hospital; then each
person free to be admitted draws one uniform for an emergency admission or, failing that, death.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskstrat.synth import params as P
from riskstrat.synth.hazard import NEVER, Calendar, age_years, daily_probs, upper_bound
from riskstrat.synth.population import NO_DAY, Population

#: Admission method codes used in the truth arrays (index into contract ADMISSION_METHODS order).
EMERGENCY, ELECTIVE, MATERNITY, TRANSFER = 1, 0, 2, 3
METHOD_NAMES = ("elective", "emergency", "maternity", "transfer")
#: Discharge destination codes (index into contract DISCHARGE_DESTINATIONS order).
HOME, CARE_HOME, DIED, OTHER_HOSPITAL, OTHER = range(5)
#: Days between full recomputations of each person's bound on their daily event probability.
BLOCK_DAYS = 28


@dataclass
class History:
    """What happened: spells (one row each) and deaths."""

    person: np.ndarray
    admission: np.ndarray
    discharge: np.ndarray
    method: np.ndarray
    destination: np.ndarray
    origin: np.ndarray  # admission day of the episode the spell belongs to (transfer chains)
    end_amp: np.ndarray  # bump amplitude the episode leaves behind (same on every spell of it)
    episode_end: np.ndarray  # last discharge of the episode
    death_day: np.ndarray  # per person, NO_DAY if alive at the end
    n_emergency: np.ndarray  # per person, emergency admissions in the period


def _emergency_stays(
    rng: np.random.Generator, *, age: np.ndarray, frailty: np.ndarray, care_home: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Length of stay, in-hospital death, transfer and destinations for emergency admissions."""
    n = age.size
    mu, slope, per_frail, sigma = P.LOS_EMERGENCY
    log_mean = mu + slope * (age - 50) + per_frail * frailty
    los = np.maximum(1, np.round(np.exp(log_mean + rng.normal(0, sigma, n))))
    los = np.where(rng.random(n) < P.LOS_ZERO_EMERGENCY, 0, los).astype(np.int64)
    a, b_age, b_frail = P.INHOSP_DEATH
    p_die = 1 / (1 + np.exp(-(a + b_age * (age - 50) + b_frail * frailty)))
    u = rng.random(n)
    transfer = (u >= p_die) & (u < p_die + P.TRANSFER_SHARE)
    died_first = u < p_die
    los2 = np.maximum(1, np.round(np.exp(log_mean + rng.normal(0, sigma, n)))).astype(np.int64)
    died_second = transfer & (rng.random(n) < p_die)
    final = np.where(care_home, CARE_HOME, HOME)
    final = np.where(rng.random(n) < P.OTHER_DESTINATION, OTHER, final)
    dest1 = np.where(died_first, DIED, np.where(transfer, OTHER_HOSPITAL, final))
    dest2 = np.where(died_second, DIED, final)
    return los, dest1, transfer, los2, dest2


def simulate(
    rng: np.random.Generator,
    pop: Population,
    *,
    day0: int,
    day1: int,
    onsets: tuple[np.ndarray, ...],
    planned: tuple[np.ndarray, ...],
    calendar: Calendar,
) -> History:
    """Run days day0..day1 inclusive; returns every spell and death."""
    n = pop.dob.size
    lb, lm = pop.lb.copy(), pop.lm.copy()
    alive = np.ones(n, dtype=bool)
    free_from = np.zeros(n, dtype=np.int64)
    bump_day = np.full(n, NEVER, dtype=np.int64)
    bump_amp = np.zeros(n)
    n_em = np.zeros(n, dtype=np.int64)
    death_day = np.full(n, NO_DAY, dtype=np.int64)
    on_person, on_day, on_dlb, on_dlm = onsets
    pl_person, pl_day, pl_los, pl_mat = planned
    on_cut = np.searchsorted(on_day, np.arange(day0, day1 + 2))
    pl_cut = np.searchsorted(pl_day, np.arange(day0, day1 + 2))
    rows: list[tuple[np.ndarray, ...]] = []
    bound = np.zeros(n)

    def rebound(who: np.ndarray | slice, t: int) -> None:
        last = min(t + BLOCK_DAYS - 1 - (t - day0) % BLOCK_DAYS, day1)
        bound[who] = upper_bound(t, last, day0=day0, dob=pop.dob[who], lb=lb[who], g=pop.g[who],
                                 lm=lm[who], gm=pop.gm[who], bump_amp=bump_amp[who],
                                 calendar=calendar)  # fmt: skip

    for k, t in enumerate(range(day0, day1 + 1)):
        if k % BLOCK_DAYS == 0:
            rebound(slice(None), t)
        s = slice(on_cut[k], on_cut[k + 1])
        np.add.at(lb, on_person[s], on_dlb[s])
        np.add.at(lm, on_person[s], on_dlm[s])
        rebound(on_person[s], t)
        s = slice(pl_cut[k], pl_cut[k + 1])
        if s.stop > s.start:
            who, los, mat = pl_person[s], pl_los[s], pl_mat[s]
            _, first = np.unique(who, return_index=True)  # one planned admission a day
            who, los, mat = who[first], los[first], mat[first]
            ok = alive[who] & (pop.entry[who] <= t) & (t < pop.leave[who]) & (free_from[who] <= t)
            who, los, mat = who[ok], los[ok], mat[ok]
            method = np.where(mat, MATERNITY, ELECTIVE)
            free_from[who] = t + los + 1
            bump_day[who] = t + los
            bump_amp[who] = np.where(mat, P.BUMP_AMP["maternity"], P.BUMP_AMP["elective"])
            dest = np.where(pop.care_home[who], CARE_HOME, HOME)
            rows.append((who, np.full(who.size, t), t + los, method, dest, np.full(who.size, t),
                         bump_amp[who], t + los))  # fmt: skip
            rebound(who, t)
        u = rng.random(n)
        c = np.flatnonzero(u < bound)  # only these can have an event today
        c = c[alive[c] & (free_from[c] <= t) & (pop.entry[c] <= t) & (t < pop.leave[c])]
        p_adm, p_die = daily_probs(
            t, day0=day0, dob=pop.dob[c], lb=lb[c], g=pop.g[c], lm=lm[c], gm=pop.gm[c],
            bump_day=bump_day[c], bump_amp=bump_amp[c], calendar=calendar,
        )  # fmt: skip
        uc = u[c]
        admitted = c[uc < p_adm]
        died = c[(uc >= p_adm) & (uc < p_adm + (1 - p_adm) * p_die)]
        alive[died] = False
        death_day[died] = t
        if admitted.size:
            spells, end, dead = _admit(rng, pop, admitted, t=t, day0=day0, n_em=n_em)
            rows.extend(spells)
            free_from[admitted] = end + 1
            bump_day[admitted] = end
            bump_amp[admitted] = P.BUMP_AMP["emergency"]
            alive[admitted[dead]] = False
            death_day[admitted[dead]] = end[dead]
            n_em[admitted] += 1
            total_prior = pop.prior[admitted] + n_em[admitted]
            lb[admitted] += P.B_FRAILTY * P.FRAILTY_JUMP + P.B_PRIOR * (total_prior <= P.PRIOR_CAP)
            lm[admitted] += P.DEATH_FRAILTY * P.FRAILTY_JUMP
            rebound(admitted, t)
    return _history(rows, death_day=death_day, n_em=n_em)


def _admit(
    rng: np.random.Generator,
    pop: Population,
    who: np.ndarray,
    *,
    t: int,
    day0: int,
    n_em: np.ndarray,
) -> tuple[list[tuple[np.ndarray, ...]], np.ndarray, np.ndarray]:
    """Spells of the emergency episodes starting today (an optional transfer on discharge).

    Returns the spell rows, each episode's last discharge day and whether it ends in death.
    """
    age = age_years(t, pop.dob[who]).astype(np.float64)
    frailty = pop.frailty0[who] + pop.drift[who] * (t - day0) + P.FRAILTY_JUMP * n_em[who]
    los, dest1, transfer, los2, dest2 = _emergency_stays(
        rng, age=age, frailty=frailty, care_home=pop.care_home[who]
    )
    dis1 = t + los
    end = np.where(transfer, dis1 + los2, dis1)
    died = np.where(transfer, dest2 == DIED, dest1 == DIED)
    amp = np.full(who.size, P.BUMP_AMP["emergency"])
    origin = np.full(who.size, t)
    first = (who, origin, dis1, np.full(who.size, EMERGENCY), dest1, origin, amp, end)
    tr = np.flatnonzero(transfer)
    second = (who[tr], dis1[tr], end[tr], np.full(tr.size, TRANSFER), dest2[tr], origin[tr],
              amp[tr], end[tr])  # fmt: skip
    return [first, second], end, died


def _history(
    rows: list[tuple[np.ndarray, ...]], *, death_day: np.ndarray, n_em: np.ndarray
) -> History:
    empty = (np.zeros(0, np.int64),) * 8
    cols = [np.concatenate([np.asarray(r[i]) for r in [empty, *rows]]) for i in range(8)]
    person, adm, dis, method, dest, origin, amp, end = cols
    order = np.lexsort((adm, person))
    return History(
        person=person[order].astype(np.int64), admission=adm[order].astype(np.int64),
        discharge=dis[order].astype(np.int64), method=method[order].astype(np.int8),
        destination=dest[order].astype(np.int8), origin=origin[order].astype(np.int64),
        end_amp=amp[order].astype(np.float64), episode_end=end[order].astype(np.int64),
        death_day=death_day, n_emergency=n_em,
    )  # fmt: skip
