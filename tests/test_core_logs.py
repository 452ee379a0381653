import logging

import pytest

from riskstrat.logs import IDENTIFIER_KEY_ERROR, log_event, progress


def test_identifier_keys_refused() -> None:
    with pytest.raises(ValueError) as err:
        log_event("listed", nhs_number="x")
    assert str(err.value) == IDENTIFIER_KEY_ERROR.format(key="nhs_number")


def test_progress_plain_lines_off_terminal(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("riskstrat")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="riskstrat"):
            assert list(progress(range(20), label="step")) == list(range(20))
    finally:
        logger.removeHandler(caplog.handler)
    messages = {r.getMessage() for r in caplog.records}
    lines = sorted(m for m in messages if m.startswith("progress"))
    assert "progress step=step done=20 total=20" in lines
    assert 2 <= len(lines) <= 11
