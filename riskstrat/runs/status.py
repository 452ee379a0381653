"""`riskstrat status`: recent runs (from their manifests) and the next scheduled times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from riskstrat.config import Settings
from riskstrat.runs.lock import lock_path
from riskstrat.runs.manifest import Manifest, recent_manifests
from riskstrat.runs.schedule import ScheduleConfig, next_fire_times, stored_next_run_times

INTERRUPTED = "interrupted"  # a manifest left "running" by a process that no longer holds the lock


def _lock_held(settings: Settings) -> bool:
    from filelock import FileLock, Timeout

    path = lock_path(settings.paths.data_dir)
    if not path.exists():
        return False
    try:
        FileLock(str(path)).acquire(timeout=0).lock.release()
    except Timeout:
        return True
    return False


def run_rows(manifests: list[Manifest], *, lock_held: bool) -> list[dict[str, str]]:
    rows = []
    for i, m in enumerate(manifests):
        status = m.status
        if status == "running" and not (lock_held and i == 0):
            status = INTERRUPTED
        seconds = sum(m.timings.values())
        rows.append(
            {
                "started (UTC)": m.started_at.strftime("%Y-%m-%d %H:%M"),
                "as of": m.as_of.isoformat(),
                "status": status,
                "pathways": ",".join(m.pathways),
                "seconds": f"{seconds:.0f}",
                "warnings": str(len(m.warnings)),
            }
        )
    return rows


def schedule_rows(
    config: ScheduleConfig, *, settings: Settings, now: datetime | None = None
) -> list[dict[str, str]]:
    """Next time of each job: from the job store when installed, else from the config."""
    zone = ZoneInfo(config.timezone)
    now = now or datetime.now(zone)
    stored = stored_next_run_times(config, settings=settings)
    computed = next_fire_times(config, now=now)
    rows = []
    for spec in config.jobs:
        when = stored.get(spec.id)
        source = "job store"
        if when is None:
            when = (computed[spec.id] or [None])[0]
            source = "config (not installed)"
        rows.append(
            {
                "job": spec.id,
                "kind": spec.kind,
                "next run": when.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z") if when else "-",
                "from": source,
            }
        )
    return rows


def table(rows: list[dict[str, str]]) -> str:
    """Plain aligned text table (no identifiers: manifests and jobs hold none)."""
    if not rows:
        return "(none)"
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def status_text(config: ScheduleConfig, *, settings: Settings, limit: int = 10) -> str:
    manifests = recent_manifests(settings.paths.out_dir, limit=limit)
    runs = run_rows(manifests, lock_held=_lock_held(settings))
    return (
        f"Recent runs ({settings.paths.out_dir}):\n{table(runs)}\n\n"
        f"Schedule ({config.timezone}):\n{table(schedule_rows(config, settings=settings))}"
    )
