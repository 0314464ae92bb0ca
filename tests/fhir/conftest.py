"""Fixtures: the sandbox payers (as tests/sandbox) decide the claims the EOB export tests read."""

from tests.sandbox.conftest import clock, sandbox  # noqa: F401 (the sandbox's fixtures, shared)
