"""Rendering letters: a jinja2 template to HTML, then WeasyPrint to PDF.

Every template extends `base.html.j2` (letterhead, page layout, styles). Rendering is strict: an
undefined name (StrictUndefined) or a None printed where text belongs is an error, never a blank
or a "None" in a letter that goes to a payer or a patient. Optional parts are wrapped in
`{% if %}` in the templates.

A new kind of letter is a template plus a pydantic model for its data; `render_letter` does the rest.

System libraries: WeasyPrint needs Pango (Debian: libpango-1.0-0 libpangoft2-1.0-0) and a font
(fonts-dejavu-core). With libharfbuzz-subset0 installed it subsets fonts natively; without it
(as on the development machine) it falls back to fontTools, which works but is slower and warns.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ConfigDict

TEMPLATES = Path(__file__).parent / "templates"


class RenderedLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    template: str
    html: str
    pdf: bytes


class LetterRenderError(ValueError):
    """A template could not be filled: a value it prints is missing."""


def money(amount: Decimal) -> str:
    """$1,234.56, and -$12.00 for a credit."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def long_date(day: date) -> str:
    """March 2, 2026."""
    return f"{day:%B} {day.day}, {day.year}"


def postal_code(code: str) -> str:
    """ZIP+4 with its hyphen: 33117-7289."""
    return f"{code[:5]}-{code[5:]}" if len(code) == 9 else code


def _refuse_none(value: Any) -> Any:
    if value is None:
        raise LetterRenderError(
            "a template printed an empty (None) value; guard optional fields with {% if %}"
        )
    return value


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        finalize=_refuse_none,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = money
    environment.filters["long_date"] = long_date
    environment.filters["postal_code"] = postal_code
    return environment


ENVIRONMENT = _environment()


def render_html(template: str, **context: Any) -> str:
    try:
        return ENVIRONMENT.get_template(template).render(**context)
    except LetterRenderError as exc:
        raise LetterRenderError(f"{template}: {exc}") from None


def html_to_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango through cffi, which only the processes that write PDFs need.
    from weasyprint import HTML

    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf


def render_letter(template: str, **context: Any) -> RenderedLetter:
    """Fill `template` with `context` and render it to HTML and PDF."""
    html = render_html(template, **context)
    return RenderedLetter(template=template, html=html, pdf=html_to_pdf(html))
