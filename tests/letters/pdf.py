"""Reading rendered PDFs back, as pypdf extracts them."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader


def pdf_text(pdf: bytes) -> str:
    """The text of every page, whitespace runs folded to one space."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def shows(text: str, phrase: str) -> bool:
    """`phrase` appears in `text`, ignoring whitespace: a line may break after a '/' or '-',
    where extraction puts a space the source did not have."""
    return re.sub(r"\s+", "", phrase) in re.sub(r"\s+", "", text)
