"""Which of the generator's forward mechanisms makes each age band's admission rate rise
(docs/synthetic.md, "The old are not in demographic equilibrium"):

    python benchmarks/generator_mechanisms.py [--patients 200000] [--work DIR]

Synthesises the benchmark population (seed 1, trend and season 0) once per variant, each with
one mechanism switched off in the simulation's or the population's view of the parameters
(frailty drift, the frailty jump at an emergency admission, the prior-admission term added at
each admission, all three), and prints the change of each band's emergency admission rate from
the second year to the third. About 15 s a variant at 200k.
"""

from __future__ import annotations

import argparse
import json
import types
from pathlib import Path

import pandas as pd
from common import END, START
from old_demography import admission_rates

from riskstrat.synth import params, population, simulate
from riskstrat.synth.generate import synthesize
from riskstrat.synth.params import World

#: variant -> (module whose view of params is changed, {parameter: value})
VARIANTS = {
    "nothing": {},
    "frailty drift": {population: {"FRAILTY_DRIFT": 0.0}},
    "frailty jump": {simulate: {"FRAILTY_JUMP": 0.0}},
    "prior-admission term": {simulate: {"B_PRIOR": 0.0}},
    "all three": {
        population: {"FRAILTY_DRIFT": 0.0},
        simulate: {"FRAILTY_JUMP": 0.0, "B_PRIOR": 0.0},
    },
}


def view(changes: dict) -> types.SimpleNamespace:
    names = {k: getattr(params, k) for k in dir(params) if not k.startswith("__")}
    return types.SimpleNamespace(**(names | changes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=Path("work/mechanisms"))
    args = parser.parse_args()
    growth = {}
    for name, changes in VARIANTS.items():
        for module in (population, simulate):
            module.P = view(changes.get(module, {}))
        out = args.work / name.replace(" ", "_")
        synthesize(patients=args.patients, practices=max(2, args.patients // 10_000),
                   start=START, end=END, seed=1, out_dir=out, fmt="parquet",
                   world=World(season_amplitude=0.0, trend_per_year=0.0))  # fmt: skip
        meta = json.loads((out / "truth" / "meta.json").read_text())
        rates = admission_rates(pd.read_parquet(out / "truth" / "persons.parquet"),
                                pd.read_parquet(out / "truth" / "spells.parquet"),
                                day0=meta["day0"], day1=meta["day1"])  # fmt: skip
        growth[name] = rates.iloc[2] / rates.iloc[1] - 1
    for module in (population, simulate):
        module.P = params
    table = pd.DataFrame(growth).T
    print("switched off -> change of the emergency admission rate, year 2 to year 3")
    print(table.map(lambda v: f"{100 * v:+.1f} %").to_string())


if __name__ == "__main__":
    main()
