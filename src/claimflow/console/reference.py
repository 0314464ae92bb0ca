"""Reference text generated from the code, so the README cannot drift from it (a test compares)."""

from __future__ import annotations

from claimflow.integrations.settings import TEMPORAL_CLIENT_VARIABLES, VARIABLES, Variable


def configuration_table(variables: tuple[Variable, ...] = VARIABLES) -> str:
    """The README's configuration reference: every variable of settings.VARIABLES as a Markdown table
    (or of settings.TEMPORAL_CLIENT_VARIABLES, the secured-Temporal table).

    Regenerate with: python -c "from claimflow.console.reference import configuration_table as t; print(t())"
    """
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for variable in variables:
        default = variable.default if variable.default.startswith("(") else f"`{variable.default}`"
        rows.append(f"| `{variable.name}` | {_cell(default)} | {_cell(variable.meaning)} |")
    return "\n".join(rows)


def temporal_client_table() -> str:
    """The README's table of what the Temporal SDK's environment configuration reads."""
    return configuration_table(TEMPORAL_CLIENT_VARIABLES)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
