"""A worker's log shows claimflow's events, not WeasyPrint's and fontTools' routine INFO lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from claimflow.integrations.logs import QUIET_LOGGERS, configure_logging
from claimflow.letters.render import html_to_pdf


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    structlog.reset_defaults()
    root.handlers, root.level = handlers, level
    for name, saved in quiet.items():
        logging.getLogger(name).setLevel(saved)


def test_rendering_a_pdf_logs_nothing_at_info_but_warnings_still_show() -> None:
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    html_to_pdf("<html><body><h1>Statement</h1><p>Balance due: $20.00, thank you.</p></body></html>")
    structlog.get_logger("claimflow.worker").info("statement written", claim_id="claim-E1")
    logging.getLogger("fontTools.subset").warning("a glyph is missing")
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e.get("logger"), e["level"], e["event"]) for e in events] == [
        (None, "info", "statement written"),
        ("fontTools.subset", "warning", "a glyph is missing"),
    ]


def test_debug_lets_the_libraries_speak() -> None:
    stream = io.StringIO()
    configure_logging("json", level=logging.DEBUG, stream=stream)
    html_to_pdf("<html><body><p>probe</p></body></html>")
    assert "weasyprint" in stream.getvalue()
