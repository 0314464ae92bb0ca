"""Letters and statements: jinja2 templates rendered to HTML and PDF (WeasyPrint).

Every template extends templates/base.html.j2; rendering is strict (no placeholder left unfilled).
"""

from claimflow.letters.practice import Practice
from claimflow.letters.render import LetterRenderError, RenderedLetter, render_letter
from claimflow.letters.statement import Notice, StatementData, StatementLine, render_statement

__all__ = [
    "LetterRenderError",
    "Notice",
    "Practice",
    "RenderedLetter",
    "StatementData",
    "StatementLine",
    "render_letter",
    "render_statement",
]
