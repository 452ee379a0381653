"""Issue 12 item 1 end to end: practice codes shaped like paths never make a run write patient
lists outside its run folder. Two walls, each tested on its own: the ingest refuses the codes
(rule `pattern`), and `riskstrat.paths.output_path` refuses any folder that would escape, even
when such a code reaches the store some other way."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from riskstrat.config import IngestConfig, Settings
from riskstrat.paths import OUTSIDE_RUN_FOLDER
from riskstrat.runs.manifest import recent_manifests
from riskstrat.runs.pipeline import run_once
from riskstrat.runs.publish import LATEST
from riskstrat.runs.state import RunOptions

EXTRACT_DATE = date(2025, 12, 28)  # tests/conftest.py SMALL_POPULATION["end"]
AS_OF = EXTRACT_DATE + timedelta(days=1)
RELATIVE = "../../../../PWNED_REL"


def _payload_files(root: Path) -> list[Path]:
    """Every file or folder under `root` named like the payload."""
    return list(root.rglob("*PWNED*"))


def _rename_practices(folder: Path, renames: dict[str, str]) -> None:
    for table in ("practices", "patients"):
        path = folder / f"{table}.parquet"
        frame = pd.read_parquet(path)
        frame["practice_code"] = frame["practice_code"].replace(renames)
        frame.to_parquet(path, index=False)


def test_run_with_path_like_practice_codes_writes_nothing_outside_out(
    run_settings: Settings, tmp_path: Path
) -> None:
    """Wall 1: the ingest rejects the codes with a reason; the run lists the other practices."""
    absolute = str(tmp_path / "PWNED_ABS")
    _rename_practices(run_settings.paths.source_dir, {"Z00003": RELATIVE, "Z00004": absolute})
    lenient = run_settings.model_copy(
        update={"ingest": IngestConfig(max_reject_share=1.0, contacts_missing_share=1.0)}
    )
    manifest = run_once(as_of=AS_OF, settings=lenient)
    assert manifest.status == "succeeded"
    out = run_settings.paths.out_dir
    assert _payload_files(tmp_path.parent) == []
    practices = sorted(p.name for p in (out / LATEST / "practices").iterdir())
    assert practices == ["Z00001", "Z00002"]
    from riskstrat.registry.store import latest_extract

    report_dir = Path(latest_extract(run_settings.paths.store)["report_dir"])
    rejects = pd.read_csv(report_dir / "rejects" / "practices.csv", dtype=str)
    assert sorted(rejects["value"]) == sorted([RELATIVE, absolute])
    assert set(rejects["rule"]) == {"pattern"}


def test_a_path_like_code_already_in_the_store_stops_at_output_path(
    run_settings: Settings, tmp_path: Path
) -> None:
    """Wall 2: a store written before the ingest rule existed (or by hand) holds the code; the
    list writer refuses the folder, the run fails, nothing is written or published."""
    from riskstrat.registry.store import connect

    with connect(run_settings.paths.store, read_only=False) as con:
        for table in ("practices", "patients"):
            con.execute(
                f"UPDATE {table} SET practice_code = ? WHERE practice_code = 'Z00002'", [RELATIVE]
            )
    with pytest.raises(ValueError) as caught:
        run_once(as_of=AS_OF, settings=run_settings, options=RunOptions(ingest=False))
    out = run_settings.paths.out_dir
    assert str(caught.value).startswith(
        OUTSIDE_RUN_FOLDER.split("{root}")[0].format(path=f"practices/{RELATIVE}")
    )
    assert _payload_files(tmp_path.parent) == []
    assert not (out / LATEST).exists()
    (last,) = recent_manifests(out, limit=1)
    assert last.status == "failed" and "inside_run_folder" in last.error
