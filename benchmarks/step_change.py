"""Step change: does monitoring see a virtual ward open, and does a retrained model recover?

    python benchmarks/step_change.py --patients 80000

Generates a world in which a virtual ward opens on --ward (`riskstrat synth --virtual-ward`,
removing --effect of every later discharge's post-discharge readmission bump), ingests it, then
for the 30-day readmission task:

1. **before**: trains exactly as `riskstrat train readmission_30d` would on an extract that ended
   the day before the ward opened (`load_task_data(extract_date=...)`, the rolling-origin cut of
   `riskstrat backtest`: labels after the cut are immature, every period ends there), so the
   model has seen nothing of the step.
2. scores the discharges after the step (the full extract's test split: test patients, discharges
   in the last half-year whose 30 days are in the extract) and judges them with riskstrat's own
   monitoring (`matured_performance` + `performance_warnings`, thresholds from
   configs/monitoring.yaml), overall and per discharge month, as a weekly run would see them.
3. **retrain**: trains on the full extract (train + calibration periods including the post-step
   months) and scores the same post-step test rows: observed/expected and AUROC.

The same monitoring runs on the pre-step model's own (pre-step) test period as the control.
Results go to benchmarks/results/step_change_<patients>_w<ward>_e<effect>_s<seed>.json. One core, ~2
minutes at 200k.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from common import END, START, work_env

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TASK = "readmission_30d"


def prepare_world(
    work: Path, *, patients: int, ward: date, effect: float, seed: int, env: dict
) -> None:
    """`riskstrat synth --virtual-ward` + `riskstrat ingest`, unless the store exists."""
    exe = str(Path(sys.executable).parent / "riskstrat")
    if (work / "data" / "store.duckdb").exists():
        return
    practices = max(2, patients // 10_000)
    for cmd in (
        [exe, "synth", "--patients", str(patients), "--practices", str(practices),
         "--start", str(START), "--end", str(END), "--seed", str(seed),
         "--virtual-ward", str(ward), "--virtual-ward-effect", str(effect),
         "--out", str(work / "pop")],
        [exe, "ingest", str(work / "pop" / "extract"), "--extract-date", str(END)],
    ):  # fmt: skip
        print(" ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def judge(frame: pd.DataFrame, *, as_of: str) -> dict[str, object]:
    """riskstrat's monitoring on matured rows (`risk`, `label`): overall row + its warnings."""
    from riskstrat.runs import monitoring as mon

    params = mon.load_monitoring_config()
    perf = mon.matured_performance(frame[["risk", "label"]])
    overall = perf[perf["slice"] == "overall"].iloc[0]
    warnings = mon.performance_warnings(perf, task=TASK, as_of=as_of, params=params.performance)
    return {
        "n": int(overall["n"]),
        "events": int(overall["events"]),
        "observed": float(overall["observed"]),
        "expected": float(overall["expected"]),
        "o_e": float(overall["observed"] / overall["expected"]),
        "auroc": overall["auroc"],
        "warnings": warnings,
    }


def monthly(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Monitoring per discharge month (what one month's matured window would say) and on the
    months so far pooled (`cumulative`)."""
    month = pd.to_datetime(frame["index_date"]).dt.strftime("%Y-%m").to_numpy()
    out = []
    for m in sorted(set(month)):
        out.append({"month": m, "window": "month"} | judge(frame[month == m], as_of=m))
        out.append({"month": m, "window": "cumulative"} | judge(frame[month <= m], as_of=m))
    return out


def kinds(warnings: list[str]) -> str:
    """Which checks spoke: ratio (observed/expected), gap (absolute), auroc."""
    found = [
        name
        for name, word in (("ratio", "observed/expected"), ("gap", "gap above"), ("auroc", "AUROC"))
        if any(word in w for w in warnings)
    ]
    return "+".join(found) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=80_000)
    parser.add_argument("--ward", type=date.fromisoformat, default=date(2025, 1, 1))
    parser.add_argument("--effect", type=float, default=0.3)
    parser.add_argument("--warmup-days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "step_change")
    args = parser.parse_args()
    tag = f"{args.patients}_w{args.ward:%Y%m%d}_e{args.effect:g}_s{args.seed}"
    work = args.work / tag
    work.mkdir(parents=True, exist_ok=True)
    env = work_env(work)
    started = time.perf_counter()
    prepare_world(
        work, patients=args.patients, ward=args.ward, effect=args.effect, seed=args.seed, env=env
    )
    import os

    os.environ.update(env)
    from riskstrat.models import metrics as m
    from riskstrat.models.config import load_model_config
    from riskstrat.models.data import load_task_data
    from riskstrat.models.train import fit_task

    store = work / "data" / "store.duckdb"
    config = load_model_config(TASK, overrides={"split": {"warmup_days": args.warmup_days}})
    cut = args.ward - timedelta(days=1)
    before = load_task_data(TASK, store_path=store, config=config, extract_date=cut)
    fitted_before = fit_task(before, config=config).fitted
    full = load_task_data(TASK, store_path=store, config=config)
    fitted_after = fit_task(full, config=config).fitted
    # The same retrain with its calibration window (config split.calibration_days) cut to the
    # days after the step: the booster still learns mostly pre-step rows, Platt the new level.
    after_days = (full.periods.calib[1] - args.ward).days + 1
    post_config = load_model_config(
        TASK,
        overrides={"split": {"warmup_days": args.warmup_days, "calibration_days": after_days}},
    )
    post_calib = load_task_data(TASK, store_path=store, config=post_config)
    fitted_post_calib = fit_task(post_calib, config=post_config).fitted

    pre_test = before.dataset[before.dataset["split"] == "test"]
    post_test = full.dataset[full.dataset["split"] == "test"]
    assert pd.to_datetime(post_test["index_date"]).min() >= pd.Timestamp(args.ward)

    def scored(model, rows: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "risk": model.predict(rows),
                "label": rows["label"].to_numpy(float),
                "index_date": rows["index_date"].to_numpy(),
            }
        )

    cases = {
        "pre-step model, pre-step test": scored(fitted_before, pre_test),
        "pre-step model, post-step test": scored(fitted_before, post_test),
        "retrained model, post-step test": scored(fitted_after, post_test),
        "retrained, calibration after step": scored(fitted_post_calib, post_test),
    }
    assert (post_calib.dataset["split"] == "test").sum() == len(post_test)
    table = {}
    for name, frame in cases.items():
        row = judge(frame, as_of=f"{frame['index_date'].min():%Y-%m-%d}..")
        row["ece"] = m.ece(frame["label"].to_numpy(), frame["risk"].to_numpy())
        table[name] = row
    out = {
        "patients": args.patients,
        "command": f"python benchmarks/step_change.py --patients {args.patients} "
        f"--ward {args.ward} --effect {args.effect} --warmup-days {args.warmup_days} "
        f"--seed {args.seed}",
        "measured_on": date.today().isoformat(),
        "ward": str(args.ward),
        "effect": args.effect,
        "periods": {
            "before": before.periods.as_dict(),
            "retrained": full.periods.as_dict(),
            "retrained_calibration_after_step": post_calib.periods.as_dict(),
        },
        "rows": {
            name: {s: int((d.dataset["split"] == s).sum()) for s in ("train", "calib", "test")}
            for name, d in (
                ("before", before),
                ("retrained", full),
                ("retrained_calibration_after_step", post_calib),
            )
        },
        "results": table,
        "monthly_pre_step_model_on_post_step": monthly(cases["pre-step model, post-step test"]),
        "monthly_retrained_on_post_step": monthly(cases["retrained model, post-step test"]),
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"step_change_{tag}.json"
    path.write_text(json.dumps(out, indent=2, default=str))
    show = pd.DataFrame(table).T[["n", "events", "observed", "expected", "o_e", "auroc", "ece"]]
    print(show.to_string(float_format=lambda v: f"{v:.4g}"))
    for name, row in table.items():
        print(f"{name}: {row['warnings'] or 'no warnings'}")
    months = pd.DataFrame(out["monthly_pre_step_model_on_post_step"])
    months["warned"] = months.pop("warnings").map(kinds)
    print("pre-step model on post-step discharges, by discharge month:")
    print(months.drop(columns=["observed", "expected"]).to_string(float_format="{:.3f}".format))
    print(f"written {path}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
