"""`synthesize`: generate a synthetic integrated care system as registry extracts + ground truth.

Writes out_dir/extract/<table>.<fmt> (what a real extract holds, per the contract) and
out_dir/truth/ (latent state, event history and precomputed oracle risks). Both folders are
staged beside the target and swapped in at the end, so a failed run leaves earlier output intact.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from riskstrat.logs import log_event, timed
from riskstrat.synth import activity, identity, tables
from riskstrat.synth.hazard import Calendar
from riskstrat.synth.params import World
from riskstrat.synth.population import (
    make_people,
    make_practices,
    onset_events,
    planned_admissions,
)
from riskstrat.synth.precompute import write_precomputed
from riskstrat.synth.simulate import simulate
from riskstrat.synth.truth import write_truth

BAD_FORMAT = "synth: format must be one of {allowed}, got {value!r}"
BAD_PERIOD = "synth: end ({end}) must be after start ({start})"
BAD_SIZE = "synth: need at least one practice and as many patients as practices ({p} > {n})"
#: Independent random streams, so changing one part never reshuffles another.
#: New streams go at the end (spawned children keep their keys, so old streams stay the same).
STREAMS = ("practices", "people", "planned", "simulate", "spells", "ae", "gp", "rx", "obs", "ids",
           "coding")  # fmt: skip


@dataclass
class Summary:
    patients: int
    practices: int
    start: date
    end: date
    seed: int
    out_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    oracle: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def _day(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _swap_in(staging: Path, out_dir: Path) -> None:
    for part in ("extract", "truth"):
        target, old = out_dir / part, out_dir / f".{part}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        (staging / part).rename(target)
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def synthesize(
    *,
    patients: int,
    practices: int,
    start: date,
    end: date,
    seed: int,
    out_dir: Path | str,
    fmt: str = "parquet",
    world: World | None = None,
) -> Summary:
    """Generate the population, simulate [start, end] day by day, write extract and truth.

    world: what changes in calendar time (season, trend, a virtual ward, a practice's coding
    gap); default World() (docs/synthetic.md)."""
    world = World() if world is None else world
    if fmt not in tables.FORMATS:
        raise ValueError(BAD_FORMAT.format(allowed=tables.FORMATS, value=fmt))
    if end <= start:
        raise ValueError(BAD_PERIOD.format(start=start, end=end))
    if practices < 1 or patients < practices:
        raise ValueError(BAD_SIZE.format(p=practices, n=patients))
    began = time.perf_counter()
    out_dir = Path(out_dir)
    staging = out_dir / ".synth-staging"
    shutil.rmtree(staging, ignore_errors=True)
    extract, truth_dir = staging / "extract", staging / "truth"
    day0, day1 = _day(start), _day(end)
    seeds = np.random.SeedSequence(seed).spawn(len(STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(STREAMS, seeds, strict=True)}
    summary = Summary(patients, practices, start, end, seed, out_dir)
    with timed("synth.population", patients=patients):
        prac = make_practices(rng["practices"], patients=patients, practices=practices)
        pop = make_people(rng["people"], practices=prac, day0=day0, day1=day1)
        onsets = onset_events(pop, day0=day0)
        planned = planned_admissions(rng["planned"], pop, day0=day0, day1=day1)
    with timed("synth.simulate", days=day1 - day0 + 1):
        calendar = Calendar.of(world, day0=day0, day1=day1)
        hist = simulate(rng["simulate"], pop, day0=day0, day1=day1, onsets=onsets,
                        planned=planned, calendar=calendar)  # fmt: skip
    n = pop.dob.size
    ids = tables.prefixed("P", rng["ids"].permutation(n) + 1, 8)

    def put(name: str, table) -> None:
        tables.write(table, extract / f"{name}.{fmt}", fmt=fmt)
        summary.rows[name] = table.num_rows
        log_event("synth.table", table=name, rows=table.num_rows)

    with timed("synth.write"):
        practice_table, codes = tables.practices_table(prac)
        put("practices", practice_table)
        put("patients", tables.patients_table(pop, hist, ids=ids, practice_codes=codes, day1=day1))
        put("contacts", tables.build("contacts", {"patient_id": ids,
                                                  **identity.contacts(rng["ids"], n)}))  # fmt: skip
        conditions = tables.conditions_table(
            pop, hist, ids=ids, day1=day1, gap=world.coding_gap, rng=rng["coding"]
        )
        put("conditions", conditions)
        put("spells", tables.spells_table(rng["spells"], pop, hist, ids=ids, practices=prac,
                                          day1=day1))  # fmt: skip
        for name, make, stream in (
            ("ae_attendances", activity.ae_attendances, "ae"),
            ("gp_contacts", activity.gp_contacts, "gp"),
            ("prescriptions", activity.prescriptions, "rx"),
            ("observations", activity.observations, "obs"),
        ):
            cols = make(rng[stream], pop, hist, day0=day0, day1=day1)
            put(name, tables.event_table(name, cols, ids=ids))
            del cols
    with timed("synth.truth"):
        write_truth(truth_dir, pop=pop, hist=hist, ids=ids, spell_ids=tables.spell_ids(hist),
                    onsets=onsets, planned=planned, day0=day0, day1=day1, seed=seed,
                    world=world)  # fmt: skip
        summary.oracle = write_precomputed(truth_dir)
    _swap_in(staging, out_dir)
    summary.seconds = round(time.perf_counter() - began, 1)
    log_event("synth.done", rows=sum(summary.rows.values()), seconds=summary.seconds)
    return summary
