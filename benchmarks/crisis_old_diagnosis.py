"""Crisis 85+ diagnosis: do the oracle and the label mean the same thing, and where is the
model off? (issue #14)

    python benchmarks/crisis_old_diagnosis.py --patients 200000 [--seeds 7 8 9]

Uses the store benchmarks/quality.py prepared (same work folder). For each split seed, with
the shipped crisis config (at most --max-rows training rows):

- `label_equals_outcome`: per split, the share of rows whose store label equals the
  simulation's own outcome (riskstrat.synth.oracle.observed_emergency over the same window), and
  the two kinds of disagreement: a label the simulation never had, an admission the label
  missed;
- per split and age band: rows, events, observed rate (Wilson 95 % interval), the oracle's mean
  (the true P(first emergency admission in the window) on the same rows), z = (events - sum of
  oracle) / sqrt(sum p (1 - p)), and the model's mean and its ratio to the oracle. On the
  training rows the model's risk is the cross-fitted calibrator applied to each row's
  out-of-fold raw score (what the calibrator was fitted on), with the level offset; on the
  other splits it is the shipped prediction;
- per as-of date, the 85+ model / oracle ratio (is the gap growing with time?).

Results: results/crisis_old_diagnosis_<n>.json.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
from common import seed_study_parser, seed_study_record, seed_study_work
from quality import wilson

BANDS = ((0, 65), (65, 75), (75, 85), (85, 200))


def bands(rows: pd.DataFrame, y: np.ndarray, oracle: np.ndarray, p: np.ndarray) -> dict:
    age = rows["age"].to_numpy()
    out = {}
    for lo, hi in BANDS:
        m = (age >= lo) & (age < hi)
        events, n = float(y[m].sum()), int(m.sum())
        low, high = wilson(events, n)
        var = float((oracle[m] * (1 - oracle[m])).sum())
        out[f"{lo}-{hi - 1 if hi < 200 else ''}"] = {
            "rows": n,
            "events": int(events),
            "observed": round(events / n, 5),
            "observed_ci": [round(low, 5), round(high, 5)],
            "oracle": round(float(oracle[m].mean()), 5),
            "z_observed_vs_oracle": round((events - float(oracle[m].sum())) / np.sqrt(var), 2),
            "model": round(float(p[m].mean()), 5),
            "model_over_oracle": round(float(p[m].mean() / oracle[m].mean()), 4),
        }
    return out


def main() -> None:
    parser = seed_study_parser(__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=int, default=400_000)
    args = parser.parse_args()
    work = seed_study_work(args)
    import riskstrat.models.core as core
    from riskstrat.models.config import load_model_config
    from riskstrat.models.data import load_task_data
    from riskstrat.models.level import apply_offset, offset
    from riskstrat.synth.oracle import crisis_risk, observed_emergency
    from riskstrat.synth.truth import load_truth

    store, truth_dir = work / "data" / "store.duckdb", work / "pop" / "truth"
    truth = load_truth(truth_dir)
    out, path = seed_study_record(args)
    started = time.perf_counter()
    for seed in args.seeds:
        config = load_model_config(
            "crisis", overrides={"seed": seed, "split": {"max_train_rows": args.max_rows}}
        )
        data = load_task_data("crisis", store_path=store, config=config)
        ds = data.dataset
        captured: dict[str, np.ndarray] = {}
        plain = core.cross_fit

        def keep(*a, _plain=plain, _into=captured, **k):  # the out-of-fold raw scores
            crossed = _plain(*a, **k)
            _into["oof"] = crossed.oof
            return crossed

        core.cross_fit = keep
        try:
            fitted = core.fit_all(
                ds, features=data.features, config=config, level=data.level, logistic=False
            )
        finally:
            core.cross_fit = plain
        res: dict = {"label_equals_outcome": {}, "by_age": {}, "age85_by_date": {}}
        for split in ("train", "valid", "calib", "test"):
            rows = ds[ds["split"] == split].reset_index(drop=True)
            y = rows["label"].to_numpy(float)
            person = rows["patient_id"].astype(str).map(truth.ids).to_numpy(np.int64)
            t0 = pd.to_datetime(rows["index_date"]).to_numpy().astype("datetime64[D]")
            outcome = observed_emergency(truth, person, t0.astype(np.int64), 90).astype(float)
            res["label_equals_outcome"][split] = {
                "rows": len(rows),
                "share": float(np.mean(y == outcome)),
                "label_without_admission": int(((y == 1) & (outcome == 0)).sum()),
                "admission_without_label": int(((y == 0) & (outcome == 1)).sum()),
            }
            oracle = crisis_risk(truth_dir, rows[["patient_id", "index_date"]], horizon_days=90)
            if split == "train" and "oof" in captured:
                risk = fitted.calibrator(captured["oof"])
                if fitted.level is not None:
                    shift = offset(fitted.level, rows["index_date"])
                    risk = apply_offset(risk, shift, link=fitted.level.link)
            else:
                risk = fitted.predict(rows)
            res["by_age"][split] = bands(rows, y, oracle, risk)
            old = rows["age"].to_numpy() >= 85
            res["age85_by_date"][split] = {
                str(pd.Timestamp(d).date()): round(float(risk[m].mean() / oracle[m].mean()), 4)
                for d in sorted(rows["index_date"].unique())
                if (m := old & (rows["index_date"] == d).to_numpy()).any()
            }
            print(seed, split, json.dumps(res["by_age"][split]["85-"]), flush=True)
        out["seeds"][str(seed)] = res
        out["seconds"] = round(time.perf_counter() - started, 1)
        path.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
