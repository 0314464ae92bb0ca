"""Reference text generated from the code, so the README cannot drift from it (a test compares)."""

from __future__ import annotations

from claimflow.integrations.settings import VARIABLES


def configuration_table() -> str:
    """The README's configuration reference: every variable of settings.VARIABLES as a Markdown table.

    Regenerate with: python -c "from claimflow.console.reference import configuration_table as t; print(t())"
    """
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for variable in VARIABLES:
        default = variable.default if variable.default.startswith("(") else f"`{variable.default}`"
        rows.append(f"| `{variable.name}` | {_cell(default)} | {_cell(variable.meaning)} |")
    return "\n".join(rows)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
