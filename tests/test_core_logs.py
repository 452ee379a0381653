import logging

import pytest

from riskstrat import logs
from riskstrat.logs import IDENTIFIER_KEY_ERROR, log_event, progress


def test_identifier_keys_refused() -> None:
    with pytest.raises(ValueError) as err:
        log_event("listed", nhs_number="x")
    assert str(err.value) == IDENTIFIER_KEY_ERROR.format(key="nhs_number")


def test_progress_plain_lines_off_terminal(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    logger = logging.getLogger("riskstrat")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="riskstrat"):
            assert list(progress(range(20), label="fast")) == list(range(20))
            monkeypatch.setattr(logs, "PROGRESS_LOG_SECONDS", 0.0)  # a slow step: every tenth
            assert list(progress(range(20), label="slow")) == list(range(20))
    finally:
        logger.removeHandler(caplog.handler)
    messages = [r.getMessage() for r in caplog.records]  # the handler may see a record twice
    lines = list(dict.fromkeys(m for m in messages if m.startswith("progress")))
    # a quick step logs only its end; a slow one a line per tenth (no bars off a terminal)
    assert [m for m in lines if "step=fast" in m] == ["progress step=fast done=20 total=20"]
    slow = [m for m in lines if "step=slow" in m]
    assert len(slow) == 10 and slow[-1] == "progress step=slow done=20 total=20"
