"""Ground truth on disk: what the oracle needs to replay the process (never read by the pipeline).

truth/persons.parquet   latent hazard offsets, registration, true death day, per person
truth/onsets.parquet    in-period diagnoses and medicine starts as hazard increments
truth/planned.parquet   the planned (elective, maternity) admission schedule drawn ahead
truth/spells.parquet    every simulated spell, including any still open at the extract date
truth/laws.parquet      per person and register: diagnosis day (NO_DAY: none) and yearly
                        incidence rate (what the no-foresight oracle redraws schedules from)
truth/medicines.parquet repeat medicines: person, BNF code index, first day
truth/meta.json         period, seed and the parameter fingerprint the truth was made with
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from riskstrat.synth import params as P
from riskstrat.synth.activity import key
from riskstrat.synth.hazard import Calendar
from riskstrat.synth.population import Population
from riskstrat.synth.simulate import DIED, EMERGENCY, History

TRUTH_MISSING = "{path}: no ground truth here (expected files written by `riskstrat synth`)"
TRUTH_STALE = (
    "{path}: ground truth was generated with different process parameters "
    "(fingerprint {found}, current {expected}); regenerate it with `riskstrat synth`"
)


def fingerprint() -> str:
    """Hash of every parameter in riskstrat.synth.params (the oracle must replay the same)."""
    values = {k: repr(v) for k, v in sorted(vars(P).items()) if k.isupper()}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def write_truth(
    out: Path,
    *,
    pop: Population,
    hist: History,
    ids: pa.Array,
    spell_ids: pa.Array,
    onsets: tuple[np.ndarray, ...],
    planned: tuple[np.ndarray, ...],
    day0: int,
    day1: int,
    seed: int,
    world: P.World,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    persons = {
        "patient_id": ids, "dob": pop.dob, "entry": pop.entry, "leave": pop.leave,
        "lb": pop.lb, "g": pop.g, "lm": pop.lm, "gm": pop.gm, "prior": pop.prior,
        "frailty0": pop.frailty0, "drift": pop.drift, "death_day": hist.death_day,
        "sex": pop.sex,
    }  # fmt: skip
    pq.write_table(pa.table(persons), out / "persons.parquet")
    laws = {f"onset_{r.code}": pop.onset[:, j].astype(np.int32) for j, r in enumerate(P.REGISTERS)}
    laws |= {f"rate_{r.code}": pop.incidence[:, j] for j, r in enumerate(P.REGISTERS)}
    pq.write_table(pa.table(laws), out / "laws.parquet")
    medicines = {"person": pop.med_person, "code": pop.med_code, "start": pop.med_start}
    pq.write_table(pa.table(medicines), out / "medicines.parquet")
    names = ("person", "day", "d_lb", "d_lm")
    pq.write_table(pa.table(dict(zip(names, onsets, strict=True))), out / "onsets.parquet")
    names = ("person", "day", "los", "maternity")
    pq.write_table(pa.table(dict(zip(names, planned, strict=True))), out / "planned.parquet")
    spells = {
        "spell_id": spell_ids, "person": hist.person, "admission": hist.admission,
        "discharge": hist.discharge, "method": hist.method, "destination": hist.destination,
        "origin": hist.origin, "end_amp": hist.end_amp, "episode_end": hist.episode_end,
    }  # fmt: skip
    pq.write_table(pa.table(spells), out / "spells.parquet")
    meta = {"day0": day0, "day1": day1, "seed": seed, "fingerprint": fingerprint(),
            "world": asdict(world)}  # fmt: skip
    (out / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def world_from_json(values: dict) -> P.World:
    """The World stored in meta.json (JSON has lists where the dataclass has a tuple)."""
    gap = values.get("coding_gap")
    return P.World(**{**values, "coding_gap": tuple(gap) if gap is not None else None})


@dataclass(frozen=True)
class Truth:
    day0: int
    day1: int
    ids: dict[str, int]  # patient_id -> person index
    persons: dict[str, np.ndarray]
    onset_key: np.ndarray  # sorted key(person, day)
    onset_dlb: np.ndarray
    onset_dlm: np.ndarray
    planned_key: np.ndarray  # sorted key(person, day), ties in schedule order
    planned: dict[str, np.ndarray]
    spells: dict[str, np.ndarray]
    spell_index: dict[str, int]
    episode_key: np.ndarray  # sorted key(person, origin) of each episode
    episode_end: np.ndarray
    episode_amp: np.ndarray
    episode_died: np.ndarray
    emergency_key: np.ndarray  # sorted key(person, admission) of emergency admissions
    calendar: Calendar  # the world's calendar-time factors (season, trend, virtual ward)


def _columns(path: Path) -> dict[str, np.ndarray]:
    table = pq.read_table(path)
    return {name: table.column(name).to_numpy() for name in table.column_names}


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Truth:
    root = Path(path)
    meta = json.loads((root / "meta.json").read_text(encoding="utf-8"))
    if meta["fingerprint"] != fingerprint():
        raise ValueError(
            TRUTH_STALE.format(path=root, found=meta["fingerprint"], expected=fingerprint())
        )
    persons = _columns(root / "persons.parquet")
    ids = {pid: i for i, pid in enumerate(persons.pop("patient_id").tolist())}
    onsets = _columns(root / "onsets.parquet")
    ok = np.lexsort((onsets["day"], onsets["person"]))
    planned = _columns(root / "planned.parquet")
    order = np.lexsort((np.arange(planned["day"].size), planned["day"], planned["person"]))
    planned = {k: v[order] for k, v in planned.items()}
    spells = _columns(root / "spells.parquet")
    sid = spells.pop("spell_id")
    first = np.ones(spells["person"].size, dtype=bool)
    ep = np.lexsort((spells["admission"], spells["origin"], spells["person"]))
    ep_person, ep_origin = spells["person"][ep], spells["origin"][ep]
    first[1:] = (ep_person[1:] != ep_person[:-1]) | (ep_origin[1:] != ep_origin[:-1])
    heads = ep[first]
    died = spells["destination"][ep] == DIED
    ep_id = np.cumsum(first) - 1
    episode_died = np.zeros(heads.size, dtype=bool)
    np.logical_or.at(episode_died, ep_id, died)
    em = spells["method"] == EMERGENCY
    return Truth(
        day0=meta["day0"], day1=meta["day1"], ids=ids, persons=persons,
        onset_key=key(onsets["person"], onsets["day"])[ok],
        onset_dlb=onsets["d_lb"][ok], onset_dlm=onsets["d_lm"][ok],
        planned_key=key(planned["person"], planned["day"]), planned=planned,
        spells=spells, spell_index={s: i for i, s in enumerate(sid.tolist())},
        episode_key=key(spells["person"][heads], spells["origin"][heads]),
        episode_end=spells["episode_end"][heads], episode_amp=spells["end_amp"][heads],
        episode_died=episode_died,
        emergency_key=np.sort(key(spells["person"][em], spells["admission"][em])),
        calendar=Calendar.of(world_from_json(meta["world"]), day0=meta["day0"], day1=meta["day1"]),
    )  # fmt: skip


def load_truth(truth_dir: Path | str) -> Truth:
    """The truth folder's arrays (cached per folder and modification time)."""
    root = Path(truth_dir)
    meta = root / "meta.json"
    if not meta.is_file():
        raise FileNotFoundError(TRUTH_MISSING.format(path=root))
    return _load(str(root.resolve()), meta.stat().st_mtime)


def clear_truth_cache() -> None:
    """Forget loaded truth folders (a chunked synth loads one per chunk)."""
    _load.cache_clear()
