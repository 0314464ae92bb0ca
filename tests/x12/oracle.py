"""pyx12 4.0.0 as the test oracle: does an independent validator accept what we write?"""

from __future__ import annotations

import io
import json
import logging

import pyx12.params
import pyx12.x12n_document


def pyx12_errors(text: str) -> list[str]:
    """Every error pyx12 reports for an X12 text; an empty list means pyx12 accepts it."""
    params = pyx12.params.params()
    # pyx12's remark-code list is stale: newer RARCs would be flagged although valid.
    params.set("exclude_external_codes", "remark_code")
    errors_json = io.StringIO()
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    valid = pyx12.x12n_document.x12n_document(
        params, io.StringIO(text), fd_997=None, fd_html=None, fd_json=errors_json
    )
    found = _read_errors(errors_json.getvalue())
    if not valid and not found:
        found = ["pyx12 rejected the document without a detailed error"]
    return found


def _read_errors(raw: str) -> list[str]:
    """Flatten pyx12's JSON report to one line per error: 'SEG (line N): message'."""
    if not raw.strip():
        return []
    found: list[str] = []

    def walk(node: object, segment: str) -> None:
        if isinstance(node, dict):
            segment = f"{node.get('seg_id')} (line {node.get('cur_line')})" if "seg_id" in node else segment
            for error in node.get("errors", []) or []:
                found.append(f"{segment}: {error.get('err_str')}")
            for key, value in node.items():
                if key != "errors":
                    walk(value, segment)
        elif isinstance(node, list):
            for item in node:
                walk(item, segment)

    walk(json.loads(raw), "envelope")
    return found
