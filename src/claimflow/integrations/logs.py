"""structlog for every claimflow process: JSON in production, console in dev, PHI redacted.

`redact_phi` runs before rendering and replaces, at any depth of the event (dicts, lists, pydantic
models): the value of every key in `PHI_KEYS`, and every `Person` or `Address`. It cannot see into
the free text of the event message itself: log identifiers (encounter id, patient control number),
never f-strings that carry names.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from pydantic import BaseModel
from structlog.typing import EventDict, Processor, WrappedLogger

from claimflow.claims.encounter import Address, Person
from claimflow.integrations.settings import LogFormat

REDACTED = "[redacted]"

PHI_KEYS: frozenset[str] = frozenset(
    {
        # people
        "patient",
        "subscriber",
        "insured",
        "guarantor",
        "name",
        "first_name",
        "last_name",
        "middle_name",
        "patient_name",
        "patient_first_name",
        "patient_last_name",
        "subscriber_name",
        "full_name",
        # identifying dates and numbers
        "birth_date",
        "dob",
        # a coverage's period is the person's enrollment dates (HIPAA: every date about a person but its year)
        "period_start",
        "period_end",
        "date_of_birth",
        "member_id",
        "subscriber_id",
        "ssn",
        "medical_record_number",
        "mrn",
        # contact
        "address",
        "line1",
        "line2",
        "street",
        "city",
        "postal_code",
        "zip",
        "phone",
        "email",
    }
)
"""Keys whose values are PHI wherever they appear in a log event (compared case-insensitively)."""

PHI_TYPES: tuple[type[BaseModel], ...] = (Person, Address)

QUIET_LOGGERS: tuple[str, ...] = (
    "weasyprint",
    "fontTools",
    "cssselect2",
    "tinycss2",
    "PIL",
    "httpx",
    "httpcore",
)
"""Libraries that log routine work at INFO (every font subset, every PDF page, every HTTP request):
held at WARNING unless the process logs at DEBUG, so a worker's log shows claimflow's own events."""


def redact(value: Any) -> Any:
    """A copy of `value` with PHI keys and PHI objects replaced by "[redacted]"."""
    if isinstance(value, PHI_TYPES):
        return REDACTED
    if isinstance(value, BaseModel):
        return {
            name: REDACTED if name.lower() in PHI_KEYS else redact(getattr(value, name))
            for name in type(value).model_fields
        }
    if isinstance(value, Mapping):
        return {key: REDACTED if _is_phi_key(key) else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    return value


def redact_phi(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """structlog processor: see `redact`."""
    for key, value in list(event.items()):
        if _is_phi_key(key):
            event[key] = REDACTED
        else:
            event[key] = redact(value)
    return event


def _is_phi_key(key: object) -> bool:
    return isinstance(key, str) and key.lower() in PHI_KEYS


def configure_logging(
    log_format: LogFormat = "console", level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Configure structlog once per process (workers, console, sandbox): redaction always on.

    The standard library's logging (Temporal SDK, uvicorn, httpx) is rendered by the same chain,
    so its `extra` fields are redacted too and production logs are JSON throughout. `QUIET_LOGGERS`
    show only their warnings and errors unless `level` is DEBUG.
    """
    output = stream if stream is not None else sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_phi,
    ]
    rendering: list[Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer(default=str)]
        if log_format == "json"
        else [structlog.dev.ConsoleRenderer(colors=output.isatty())]
    )
    structlog.configure(
        processors=shared + rendering,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=output),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(output)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder(), *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))
