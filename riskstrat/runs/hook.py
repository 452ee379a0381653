"""The optional failure hook: a command and/or a webhook told a scheduled run's one-line reason.

Configured in configs/schedule.yaml under `on_failure`. The command gets the reason as its last
argument (no shell) and in RISKSTRAT_FAILURE; the webhook gets a JSON POST
{"text": reason, "job": id, "due": iso} (Slack/Teams-style incoming webhooks read "text").
A hook that fails is logged and never hides the run's own failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from datetime import datetime

from pydantic import Field, field_validator, model_validator

from riskstrat.config import StrictModel
from riskstrat.logs import log_event

HOOK_EMPTY = "on_failure: give a command, a webhook, or both"
WEBHOOK_SCHEME = "on_failure.webhook {url!r}: use an http:// or https:// URL"


class FailureHook(StrictModel):
    command: list[str] | None = None  # argv; the reason is appended as the last argument
    webhook: str | None = None
    timeout_seconds: float = Field(10, gt=0)

    @field_validator("webhook")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(WEBHOOK_SCHEME.format(url=value))
        return value

    @model_validator(mode="after")
    def _something(self) -> FailureHook:
        if not self.command and not self.webhook:
            raise ValueError(HOOK_EMPTY)
        return self


def notify_failure(
    hook: FailureHook | None, *, reason: str, job_id: str, due: datetime
) -> list[str]:
    """Call the hook; returns what was notified ("command", "webhook"), failures logged only."""
    if hook is None:
        return []
    done = []
    if hook.command:
        try:
            subprocess.run(
                [*hook.command, reason],
                env={**os.environ, "RISKSTRAT_FAILURE": reason, "RISKSTRAT_JOB": job_id},
                timeout=hook.timeout_seconds,
                check=True,
                capture_output=True,
            )
            done.append("command")
        except (OSError, subprocess.SubprocessError) as exc:
            log_event("hook.command_failed", job=job_id, error=type(exc).__name__)
    if hook.webhook:
        body = json.dumps({"text": reason, "job": job_id, "due": due.isoformat()}).encode()
        request = urllib.request.Request(
            hook.webhook, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=hook.timeout_seconds) as response:
                response.read()
            done.append("webhook")
        except OSError as exc:  # URLError and HTTPError are OSErrors
            log_event("hook.webhook_failed", job=job_id, error=type(exc).__name__)
    log_event("hook.notified", job=job_id, channels=",".join(done) or "none")
    return done
