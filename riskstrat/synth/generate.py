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
import pyarrow as pa

from riskstrat.logs import log_event, timed
from riskstrat.synth import activity, identity, tables
from riskstrat.synth.chunks import (
    Appender,
    Sink,
    chunk_bounds,
    chunk_streams,
    merge_truth,
    peak_rss_gib,
)
from riskstrat.synth.hazard import Calendar
from riskstrat.synth.params import World
from riskstrat.synth.population import (
    Practices,
    lsoa_deciles,
    make_people,
    make_practices,
    onset_events,
    planned_admissions,
)
from riskstrat.synth.precompute import (
    crisis_table,
    oracle_aurocs_from_files,
    readmission_table,
    to_arrow,
    write_precomputed,
)
from riskstrat.synth.simulate import simulate
from riskstrat.synth.truth import clear_truth_cache, write_truth

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
    bounds = chunk_bounds(patients)
    rng = chunk_streams(seed, 0, STREAMS)
    summary = Summary(patients, practices, start, end, seed, out_dir)
    prac = make_practices(rng["practices"], patients=patients, practices=practices)
    lsoa = lsoa_deciles(rng["people"], prac)
    ids = tables.prefixed("P", rng["ids"].permutation(patients) + 1, 8)
    practice_table, codes = tables.practices_table(prac)
    sink = Sink(extract, fmt=fmt)
    sink.write("practices", practice_table)
    world_ctx = _Context(prac=prac, lsoa=lsoa, codes=codes, calendar=Calendar.of(world, day0=day0,
                         day1=day1), world=world, day0=day0, day1=day1, seed=seed,
                         chunks=len(bounds), patients=patients)  # fmt: skip
    parts: list[tuple[Path, int]] = []
    oracle = Appender()
    first_spell = 1
    try:
        for c, (a, b) in enumerate(bounds):
            part = truth_dir if len(bounds) == 1 else staging / "parts" / f"{c:04d}"
            with timed("synth.chunk", chunk=c, patients=b - a):
                first_spell += _chunk(
                    world_ctx, rng if c == 0 else chunk_streams(seed, c, STREAMS), c,
                    ids=ids.slice(a, b - a), span=(a, b), sink=sink, truth_dir=part,
                    first_spell=first_spell,
                )  # fmt: skip
            if len(bounds) > 1:
                with timed("synth.oracle", chunk=c):
                    oracle.write(truth_dir / "crisis.parquet", to_arrow(crisis_table(part)))
                    oracle.write(
                        truth_dir / "readmission.parquet", to_arrow(readmission_table(part))
                    )
                    clear_truth_cache()
                parts.append((part, a))
            log_event("synth.chunk.memory", chunk=c, peak_rss_gib=peak_rss_gib())
    finally:
        sink.close()
        oracle.close()
    summary.rows = dict(sink.rows)
    with timed("synth.truth"):
        if len(bounds) == 1:
            summary.oracle = write_precomputed(truth_dir)
        else:
            merge_truth(parts, truth_dir)
            shutil.rmtree(staging / "parts")
            summary.oracle = oracle_aurocs_from_files(truth_dir)
    _swap_in(staging, out_dir)
    summary.seconds = round(time.perf_counter() - began, 1)
    log_event("synth.done", rows=sum(summary.rows.values()), seconds=summary.seconds,
              chunks=len(bounds), peak_rss_gib=peak_rss_gib())  # fmt: skip
    return summary


@dataclass(frozen=True)
class _Context:
    """What every chunk shares: practices, areas, calendar and period."""

    prac: Practices
    lsoa: np.ndarray
    codes: pa.Array
    calendar: Calendar
    world: World
    day0: int
    day1: int
    seed: int
    chunks: int
    patients: int


def _chunk(
    ctx: _Context,
    rng: dict[str, np.random.Generator],
    c: int,
    *,
    ids: pa.Array,
    span: tuple[int, int],
    sink: Sink,
    truth_dir: Path,
    first_spell: int,
) -> int:
    """Draw, simulate and write people span[0]..span[1]-1 (ids: theirs); truth to truth_dir
    with person indices local to the chunk. Returns the number of simulated spells (spell ids
    continue from first_spell)."""
    day0, day1 = ctx.day0, ctx.day1
    pop = make_people(rng["people"], practices=ctx.prac, day0=day0, day1=day1, span=span,
                      lsoa_decile=ctx.lsoa)  # fmt: skip
    onsets = onset_events(pop, day0=day0)
    planned = planned_admissions(rng["planned"], pop, day0=day0, day1=day1)
    with timed("synth.simulate", chunk=c, days=day1 - day0 + 1):
        hist = simulate(rng["simulate"], pop, day0=day0, day1=day1, onsets=onsets,
                        planned=planned, calendar=ctx.calendar)  # fmt: skip
    first_ae = sink.rows.get("ae_attendances", 0) + 1

    def put(name: str, table: pa.Table) -> None:
        sink.write(name, table)
        log_event("synth.table", table=name, rows=table.num_rows, chunk=c)

    with timed("synth.write", chunk=c):
        put("patients", tables.patients_table(pop, hist, ids=ids, practice_codes=ctx.codes,
                                              day1=day1))  # fmt: skip
        who = identity.contacts(rng["ids"], span=span, population=ctx.patients,
                               block=(c, ctx.chunks))  # fmt: skip
        put("contacts", tables.build("contacts", {"patient_id": ids, **who}))
        del who
        gap = ctx.world.coding_gap
        put("conditions", tables.conditions_table(pop, hist, ids=ids, day1=day1, gap=gap,
                                                  rng=rng["coding"]))  # fmt: skip
        put("spells", tables.spells_table(rng["spells"], pop, hist, ids=ids, practices=ctx.prac,
                                          day1=day1, first_id=first_spell))  # fmt: skip
        for name, make, stream in (
            ("ae_attendances", activity.ae_attendances, "ae"),
            ("gp_contacts", activity.gp_contacts, "gp"),
            ("prescriptions", activity.prescriptions, "rx"),
            ("observations", activity.observations, "obs"),
        ):
            cols = make(rng[stream], pop, hist, day0=day0, day1=day1)
            put(name, tables.event_table(name, cols, ids=ids, first_id=first_ae))
            del cols
    write_truth(truth_dir, pop=pop, hist=hist, ids=ids,
                spell_ids=tables.spell_ids(hist, first=first_spell), onsets=onsets,
                planned=planned, day0=day0, day1=day1, seed=ctx.seed, world=ctx.world)  # fmt: skip
    return int(hist.person.size)
