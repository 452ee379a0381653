"""What an OMOP import produced, dropped and could not map, per contract table and domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from riskstrat.adapters.synthea.report import TableCounts

TOP = 10  # unmapped concepts listed by name in the printed report


@dataclass
class Unmapped:
    """Rows of one OMOP domain whose concept the adapter could not map, by concept."""

    rows: int = 0
    concepts: list[tuple[int, str, int]] = field(default_factory=list)  # (id, name, rows)

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "concepts": len(self.concepts),
            "top": [{"concept_id": c, "name": n, "rows": r} for c, n, r in self.concepts[:TOP]],
        }


@dataclass
class OmopImportReport:
    """The outcome of one OMOP import; `lines()` is what the CLI prints."""

    source: str
    version: str
    extract_date: date
    out_dir: str
    tables: dict[str, TableCounts]
    unmapped: dict[str, Unmapped]
    warnings: list[str]

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "cdm_version": self.version,
            "extract_date": self.extract_date.isoformat(),
            "out_dir": self.out_dir,
            "tables": {name: counts.as_dict() for name, counts in self.tables.items()},
            "unmapped": {name: u.as_dict() for name, u in self.unmapped.items()},
            "warnings": list(self.warnings),
        }

    def lines(self) -> list[str]:
        out = [
            f"OMOP CDM v{self.version} {self.source} -> {self.out_dir} "
            f"(extract date {self.extract_date})"
        ]
        out += [f"warning: {w}" for w in self.warnings]
        for name, counts in self.tables.items():
            out.append(f"{name}: {counts.produced} rows")
            out += [f"  dropped {n}: {reason}" for reason, n in sorted((+counts.dropped).items())]
            out += [f"  adjusted {n}: {reason}" for reason, n in sorted((+counts.adjusted).items())]
        for domain, unmapped in self.unmapped.items():
            out.append(
                f"unmapped {domain}: {unmapped.rows} rows, {len(unmapped.concepts)} concepts"
            )
            out += [f"  {c} {n}: {r}" for c, n, r in unmapped.concepts[:TOP]]
        return out
