"""`claimflow up` on a fresh home: the first admin and its one-time password, and the Temporal Web UI
started with the codec server, which opens a real claim's history for that admin and for nobody else."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.client import Client

from tests.console.test_up import start_up, until_ready
from tests.ports import free_ports
from tests.workflows.scripted import encounter

NEW_PASSWORD = "a long and private passphrase"


def claimflow(
    home: Path, temporal: int, *args: str, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "CLAIMFLOW_HOME": str(home),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal}",
        "CLAIMFLOW_TOKEN": "",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "claimflow.console.main", *args],
        capture_output=True,
        text=True,
        env=environment,
        input=input,
        timeout=120,
    )


async def first_input(temporal: int, workflow_id: str) -> Payloads:
    """The workflow's input as Temporal keeps it: read with no codec at all."""
    client = await Client.connect(f"127.0.0.1:{temporal}")
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return history.events[0].workflow_execution_started_event_attributes.input


@pytest.mark.slow
def test_a_fresh_home_gets_an_admin_and_the_ui_decodes_through_the_codec_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ports = free_ports(5)
    temporal, ui, _, _, codec = ports
    up = start_up(home, ports)
    banner: list[str] = []
    try:
        pids = until_ready(up, banner)
        assert "codec server" in pids
        text = "".join(banner)
        admin = re.search(r"username (\S+)\s+password (\S+)", text)
        assert admin and admin.group(1) == "admin", text
        assert f"codec server     http://localhost:{codec}" in text

        # The embedded UI was told where the codec is.
        settings = httpx.get(f"http://127.0.0.1:{ui}/api/v1/settings", timeout=30).json()
        assert settings["Codec"]["Endpoint"] == f"http://localhost:{codec}"

        # The admin signs in once with the one-time password, chooses their own, gets a token.
        issued = claimflow(
            home,
            temporal,
            "users",
            "token",
            "admin",
            input=f"{admin.group(2)}\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
        )
        assert issued.returncode == 0, issued.stderr
        token = re.search(r"CLAIMFLOW_TOKEN=(\S+)", issued.stdout)
        assert token is not None

        enc = encounter(datetime.now(UTC).date(), 71)
        bundle = tmp_path / "encounter.json"
        bundle.write_text(enc.model_dump_json())
        intake = claimflow(home, temporal, "intake", str(bundle))
        assert intake.returncode == 0, intake.stderr
        sealed = asyncio.run(first_input(temporal, f"claim-{enc.encounter_id}"))
        assert sealed.payloads[0].metadata["encoding"] == b"binary/encrypted"
        assert enc.patient.last_name.encode() not in sealed.payloads[0].data
        body = json_format.MessageToJson(sealed)

        endpoint = f"http://127.0.0.1:{codec}"
        origin = {"Origin": f"http://localhost:{ui}", "Content-Type": "application/json"}
        refused = httpx.post(f"{endpoint}/decode", content=body, headers=origin, timeout=30)
        assert refused.status_code == 401 and enc.patient.last_name not in refused.text
        decoded = httpx.post(
            f"{endpoint}/decode",
            content=body,
            headers={**origin, "Authorization": f"Bearer {token.group(1)}", "X-Namespace": "default"},
            timeout=30,
        )
        assert decoded.status_code == 200, decoded.text
        assert decoded.headers["access-control-allow-origin"] == f"http://localhost:{ui}"
        clear = json_format.Parse(decoded.text, Payloads()).payloads[0]
        assert json.loads(clear.data)["encounter"]["patient"]["last_name"] == enc.patient.last_name

        # Temporal's own CLI through the same codec server, with the token as its codec auth.
        shown = subprocess.run(
            [shutil.which("temporal") or "temporal", "workflow", "show", "--workflow-id",
             f"claim-{enc.encounter_id}", "--address", f"127.0.0.1:{temporal}", "--output", "json",
             "--codec-endpoint", endpoint, "--codec-auth", f"Bearer {token.group(1)}"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        started = json.loads(shown.stdout)["events"][0]["workflowExecutionStartedEventAttributes"]
        [given] = started["input"]["payloads"]
        data = given["data"] if isinstance(given["data"], str) else json.dumps(given["data"])
        assert enc.patient.last_name in data or enc.patient.last_name.encode() in base64.b64decode(data)

        up.send_signal(signal.SIGTERM)
        _, err = up.communicate(timeout=60)
    finally:
        up.kill()
    assert up.returncode == 0, err
