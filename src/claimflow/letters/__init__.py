"""Letters and statements: jinja2 templates rendered to HTML and PDF (WeasyPrint).

Every template extends templates/base.html.j2; rendering is strict (no placeholder left unfilled).
"""

from claimflow.letters.appeal import (
    AppealCategory,
    AppealData,
    AuthorizationDetails,
    BundlingDetails,
    CodingCorrection,
    DenialReason,
    FilingEvent,
    FilingProof,
    render_appeal,
)
from claimflow.letters.practice import Practice
from claimflow.letters.render import LetterRenderError, RenderedLetter, render_letter
from claimflow.letters.statement import Notice, StatementData, StatementLine, render_statement

__all__ = [
    "AppealCategory",
    "AppealData",
    "AuthorizationDetails",
    "BundlingDetails",
    "CodingCorrection",
    "DenialReason",
    "FilingEvent",
    "FilingProof",
    "LetterRenderError",
    "Notice",
    "Practice",
    "RenderedLetter",
    "StatementData",
    "StatementLine",
    "render_appeal",
    "render_letter",
    "render_statement",
]
