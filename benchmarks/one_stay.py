"""One hospital stay said as two reasons, counted over every row a list could show:

    python benchmarks/one_stay.py [--store data/store.duckdb] [--tracking-uri sqlite:///data/mlflow.db]
        [--features features OTHER_FEATURES_DIR ...] [--as-of 2025-12-29]

For every crisis row at --as-of not in hospital and every readmission discharge of the two years
before, the champion models' top three reasons are built with each features folder given (e.g.
an older commit's, to compare); prints the rows that say the last emergency admission and the
last discharge as two reasons, and how many of those the store's spells show to be one
emergency stay, through a transfer chain or in one spell (the whole-run scan's oracle,
tests/outreach/test_outreach_run_scan.py). The default store is the demo's (`riskstrat demo`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "outreach"))

from test_outreach_run_scan import admission_and_discharge_apart, stay_methods  # noqa: E402

from riskstrat.explain import as_texts, top_reasons  # noqa: E402
from riskstrat.features import build_features, load_catalogue  # noqa: E402
from riskstrat.models.registry import load_model  # noqa: E402
from riskstrat.tasks import build_index  # noqa: E402

REASONS = ["reason_1", "reason_2", "reason_3"]


def count(con, index, *, task: str, model, catalogue, as_of: date) -> str:
    matrix = build_features(con, index, task=task, catalogue=catalogue)
    if task == "crisis":
        matrix = matrix[matrix["in_hospital_at_index"] == 0].reset_index(drop=True)
    contributions = model.contributions(matrix[list(model.feature_names)])
    contributions.index = matrix.index
    reasons = top_reasons(contributions, matrix, texts=as_texts(catalogue), k=3,
                          after_discharge=task != "crisis")  # fmt: skip
    rows = reasons[REASONS].fillna("").astype(object)
    rows["patient_id"] = matrix["patient_id"].to_numpy()
    if task != "crisis":
        rows["discharge_date"] = matrix["index_date"].dt.date.astype(str).to_numpy()
    apart = admission_and_discharge_apart(rows)
    found = [stay_methods(apart.loc[[i]], con, as_of=as_of) for i in apart.index]
    found = pd.concat(found) if found else pd.DataFrame({"method": [], "legs": []})
    one = found[found["method"] == "emergency"]
    chained, single = int((one["legs"] > 0).sum()), int((one["legs"] == 0).sum())
    return (
        f"{len(matrix):,} rows; admission and discharge as two reasons {len(apart)}, of which "
        f"one emergency stay {len(one)} (through a transfer chain {chained}, one spell {single})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=ROOT / "data" / "store.duckdb")
    parser.add_argument("--tracking-uri", default=f"sqlite:///{ROOT / 'data' / 'mlflow.db'}")
    parser.add_argument("--features", type=Path, nargs="+", default=[ROOT / "features"])
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2025, 12, 29))
    args = parser.parse_args()
    with duckdb.connect(str(args.store), read_only=True) as con:
        start = args.as_of - timedelta(days=730)
        indexes = {
            "crisis": build_index(con, "crisis", as_of_dates=[args.as_of]),
            "readmission_30d": build_index(
                con, "readmission_30d", start=start, end=args.as_of - timedelta(days=1)
            ),
        }
        for task, index in indexes.items():
            model = load_model(task, alias="champion", tracking_uri=args.tracking_uri)
            for folder in args.features:
                catalogue = load_catalogue(folder)
                found = count(con, index, task=task, model=model, catalogue=catalogue,
                              as_of=args.as_of)  # fmt: skip
                print(f"{task}, features {folder}: {found}")


if __name__ == "__main__":
    main()
