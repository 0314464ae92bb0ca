"""`claimflow sandbox`: the payer and clearinghouse simulator."""

from __future__ import annotations


def sandbox() -> None:
    """Serve the payer and clearinghouse sandbox."""
    raise NotImplementedError("sandbox not built yet (issue 3)")
