"""What the import produced and dropped, per contract table, and the shared date-window rule."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

AFTER_EXTRACT = "dated after the extract date"
BEFORE_BIRTH = "dated before the patient's date of birth"
AFTER_DEATH = "dated after the patient's date of death"
UNKNOWN_PATIENT = "patient not in patients.csv (or dropped from it)"
SAME_ROW = "same patient, day and values as another row: kept once (as ingest would)"


@dataclass
class TableCounts:
    """Rows written for one contract table, and source rows dropped or changed, by reason."""

    produced: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    adjusted: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "produced": self.produced,
            "dropped": dict(+self.dropped),
            "adjusted": dict(+self.adjusted),
        }


@dataclass
class ImportReport:
    """The outcome of one Synthea import; `lines()` is what the CLI prints."""

    layout: str
    extract_date: date
    out_dir: Path
    tables: dict[str, TableCounts]
    warnings: list[str]

    def as_dict(self) -> dict[str, object]:
        return {
            "layout": self.layout,
            "extract_date": self.extract_date.isoformat(),
            "out_dir": str(self.out_dir),
            "tables": {name: counts.as_dict() for name, counts in self.tables.items()},
            "warnings": list(self.warnings),
        }

    def lines(self) -> list[str]:
        out = [f"Synthea {self.layout} export -> {self.out_dir} (extract date {self.extract_date})"]
        out += [f"warning: {w}" for w in self.warnings]
        for name, counts in self.tables.items():
            out.append(f"{name}: {counts.produced} rows")
            out += [f"  dropped {n}: {reason}" for reason, n in sorted((+counts.dropped).items())]
            out += [f"  adjusted {n}: {reason}" for reason, n in sorted((+counts.adjusted).items())]
        return out


def in_window(
    rows: pd.DataFrame, *, on: str, people: pd.DataFrame, extract_date: pd.Timestamp
) -> tuple[pd.DataFrame, Counter[str]]:
    """Keep rows whose day `on` is within the patient's known life and the extract.

    `people` has patient_id, date_of_birth and date_of_death (as known at the extract date).
    Returns the kept rows and the dropped counts by reason; the first failing rule is counted.
    """
    life = people.set_index("patient_id")
    day = rows[on].dt.normalize()
    born = rows["patient_id"].map(life["date_of_birth"])
    died = rows["patient_id"].map(life["date_of_death"])
    reasons = pd.Series(pd.NA, index=rows.index, dtype="object")
    for reason, bad in (
        (AFTER_EXTRACT, day > extract_date),
        (UNKNOWN_PATIENT, ~rows["patient_id"].isin(life.index)),
        (BEFORE_BIRTH, day < born),
        (AFTER_DEATH, day > died),
    ):
        reasons = reasons.mask(reasons.isna() & bad.fillna(False).astype(bool), reason)
    dropped = Counter({str(k): int(v) for k, v in reasons.dropna().value_counts().items()})
    return rows[reasons.isna()], dropped


def drop_repeats(frame: pd.DataFrame, counts: TableCounts) -> pd.DataFrame:
    """Keep one of each exact repeat (ingest would reject the copies as duplicate_row)."""
    repeat = frame.duplicated()
    counts.dropped[SAME_ROW] += int(repeat.sum())
    return frame[~repeat].reset_index(drop=True)
