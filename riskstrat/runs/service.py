"""`riskstrat schedule --install systemd|cron`: the text of a service unit or a crontab.

systemd runs the long-lived scheduler and restarts it if it dies (the ledger then re-runs an
interrupted run once); cron runs `riskstrat schedule --once` every 15 minutes, which catches up
and runs whatever is due, then exits. Paths are this project's and this Python's.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from riskstrat.config import project_root

SYSTEMD = """\
# riskstrat scheduler: save as /etc/systemd/system/riskstrat.service (or
# ~/.config/systemd/user/riskstrat.service with --user), then:
#   systemctl daemon-reload && systemctl enable --now riskstrat
#   journalctl -u riskstrat -f          # its log
[Unit]
Description=riskstrat scheduled runs (weekly and weekday outreach lists, monthly retrain)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
WorkingDirectory={root}
ExecStart={exe} schedule
Restart=always
RestartSec=60
# SIGTERM stops it cleanly; a run in progress is re-run once on the next start.
KillSignal=SIGTERM
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
"""

CRON = """\
# riskstrat scheduler for cron: `crontab -e` and add the line below. Every 15 minutes it catches
# up (a run missed or killed mid-run runs once), runs whatever is due, and exits; a second copy
# started while one is busy exits at once. Times follow configs/schedule.yaml (Europe/London).
*/15 * * * * cd {root} && {exe} schedule --once >> {log} 2>&1
"""


def service_text(kind: str) -> str:
    root = project_root()
    exe = Path(sys.executable).parent / "riskstrat"
    values = {
        "root": shlex.quote(str(root)),
        "exe": shlex.quote(str(exe)),
        "log": shlex.quote(str(root / "data" / "schedule.log")),
    }
    return (SYSTEMD if kind == "systemd" else CRON).format(**values)
