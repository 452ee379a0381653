"""Configuration of the commissioner report (configs/report.yaml), validated on load."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from riskstrat.config import StrictModel, config_dir, load_yaml
from riskstrat.registry.contract import REGISTERS
from riskstrat.tasks.spec import TaskName

PYRAMID_ORDER = "pyramid top_share must increase band by band and the last band must be 1.0"
FUNNEL_LIMITS = "funnel_limits must lie strictly between 0 and 1"
FUNNEL_LIMITS_EMPTY = "funnel_limits is empty: give at least one level, e.g. [0.95, 0.998]"
#: max_count below min_count suppressed nothing while the report said "counts 7-1 hidden".
SUPPRESSION_RANGE = (
    "max_count ({max}) is below min_count ({min}): no count would be suppressed; "
    "counts from min_count to max_count are hidden (NHS: 1 to 7)"
)
#: Slices shown in the equity section (practice has its own section); with "register", the
#: dimensions a listing-to-need finding can come from.
EQUITY_SLICES = ("imd_quintile", "ethnicity", "age_band", "sex", "ltc_count")
NEED_DIMENSIONS = "need_dimensions: unknown dimension {name!r}; known: {known}"
BAND_NAMES = "pyramid band names must differ, {name!r} is given twice"


class Band(StrictModel):
    name: str
    title: str
    top_share: float = Field(gt=0, le=1)


class Suppression(StrictModel):
    min_count: int = Field(default=1, ge=0)
    max_count: int = Field(default=7, ge=0)
    rounding_base: int = Field(default=5, ge=1)
    symbol: str = "*"

    @model_validator(mode="after")
    def _range(self) -> Suppression:
        if self.max_count < self.min_count:
            raise ValueError(SUPPRESSION_RANGE.format(max=self.max_count, min=self.min_count))
        return self


class BedDays(StrictModel):
    mean_per_admission: float | None = Field(default=None, gt=0)
    sd_per_admission: float | None = Field(default=None, ge=0)


class Findings(StrictModel):
    """Rules that turn figures into the plain-English key findings (docs/report.md)."""

    min_people: int = Field(default=100, ge=0)  # groups smaller than this give no finding
    need_ratio: bool = True  # a group whose listing-to-need interval lies wholly off 1
    #: Slices whose groups are not defined by risk, where listing off need is a finding; groups
    #: defined by risk (age, long-term conditions, registers) are off 1 by design (one sentence).
    need_dimensions: tuple[str, ...] = ("imd_quintile", "ethnicity", "sex")
    gradient_p: float = Field(default=0.05, gt=0, lt=1)  # trend across IMD quintiles
    funnel_level: float = Field(default=0.998, gt=0, lt=1)  # practices outside these limits
    calibration_ratio: float = Field(default=1.25, gt=1)  # O/E beyond 1/x..x (interval off 1)
    weak_auroc: float = Field(default=0.65, gt=0.5, lt=1)  # subgroup AUROC below this
    max_items: int = Field(default=5, gt=0)  # per rule, the largest departures first

    @field_validator("need_dimensions")
    @classmethod
    def _dimensions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = (*EQUITY_SLICES, "register")
        for name in value:
            if name not in known:
                raise ValueError(NEED_DIMENSIONS.format(name=name, known=list(known)))
        return value


class Charts(StrictModel):
    """Axes of the ratio charts (one shared log scale per section, centred on 1)."""

    ratio_axis_max: float = Field(default=4.0, gt=1)  # the axis never goes beyond 1/x..x
    axis_min_people: int = Field(default=100, ge=0)  # smaller or Unknown groups never set it


class ReportConfig(StrictModel):
    task: TaskName = "crisis"  # its horizon and label come from configs/tasks/<task>.yaml
    pyramid: tuple[Band, ...] = (
        Band(name="case_management", title="Case management", top_share=0.03),
        Band(name="disease_management", title="Disease management", top_share=0.20),
        Band(name="self_care", title="Supported self-care", top_share=1.0),
    )
    registers: tuple[str, ...] = ("HF", "COPD", "DM", "CKD", "CHD", "AF", "DEM", "PC")
    suppression: Suppression = Suppression()
    interval_level: float = Field(default=0.95, gt=0, lt=1)
    funnel_limits: tuple[float, ...] = (0.95, 0.998)
    bed_days: BedDays = BedDays()
    outreach_lookback_days: int = Field(default=84, gt=0)
    trend_weeks: int = Field(default=12, gt=0)
    trend_min_points: int = Field(default=3, ge=2)  # the trend chart needs this many weeks
    findings: Findings = Findings()
    charts: Charts = Charts()

    @field_validator("registers")
    @classmethod
    def _known_registers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(REGISTERS))
        if unknown:
            raise ValueError(f"unknown register codes {unknown}; known: {list(REGISTERS)}")
        return value

    @field_validator("funnel_limits")
    @classmethod
    def _limits(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value:
            raise ValueError(FUNNEL_LIMITS_EMPTY)
        if not all(0 < v < 1 for v in value):
            raise ValueError(FUNNEL_LIMITS)
        return tuple(sorted(value))

    @model_validator(mode="after")
    def _pyramid(self) -> ReportConfig:
        shares = [b.top_share for b in self.pyramid]
        if not shares or shares != sorted(set(shares)) or shares[-1] != 1.0:
            raise ValueError(PYRAMID_ORDER)
        names = [b.name for b in self.pyramid]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(BAND_NAMES.format(name=name))
        return self


def load_report_config(path: Path | str | None = None) -> ReportConfig:
    """configs/report.yaml (or `path`); a wrong key or type names the file and the key."""
    return load_yaml(Path(path) if path else config_dir() / "report.yaml", ReportConfig)
