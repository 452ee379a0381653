"""Listed rows whose first or second reason says an emergency stay ("Emergency admission ...,
discharged ...") and whose actions have none for it (the follow-up call or the anticipatory
care plan), over a run's written lists:

    python benchmarks/stay_actions.py [out/runs/2025-12-29/practices]

Stop 27: 3 of the demo's 66 such rows before "one stay, one action"
(riskstrat/explain/actions.py), 0 after. (A stay said as the third reason may find the two
driver actions already taken by the first two: `max_driver_actions` in outreach/actions.yaml.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

STAY_ACTIONS = "Follow-up call|Anticipatory care plan"


def says_a_stay(reason: object) -> bool:
    return (
        isinstance(reason, str)
        and reason.startswith("Emergency admission")
        and ("discharged" in reason)
    )


def main(folder: Path) -> None:
    files = [f for f in sorted(folder.glob("*/*.csv")) if f.name != "feedback.csv"]
    rows = pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)
    early = rows["reason_1"].map(says_a_stay) | rows["reason_2"].map(says_a_stay)
    missing = early & ~rows["actions"].fillna("").str.contains(STAY_ACTIONS)
    print(f"{len(rows)} listed rows; a stay as first or second reason: {int(early.sum())}; "
          f"without an action for it: {int(missing.sum())}")  # fmt: skip
    for _, row in rows[missing].iterrows():
        print(f"  {row['reason_1']} / {row['reason_2']} -> {row['actions']}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/runs/2025-12-29/practices"))
