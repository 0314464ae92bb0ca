"""`claimflow up` serves the web console on --console-port: on a fresh home the admin it made signs in
there with the one-time password, is made to choose a new one, then reaches the work queue."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx
import pytest

from tests.console.test_up import start_up, until_ready
from tests.console.web.conftest import csrf_of
from tests.ports import free_ports

NEW_PASSWORD = "a long and private passphrase"


@pytest.mark.slow
def test_up_serves_the_console_and_the_first_admin_signs_in(tmp_path: Path) -> None:
    ports = free_ports(6)
    console = ports[5]
    up = start_up(tmp_path / "home", ports)
    banner: list[str] = []
    try:
        until_ready(up, banner)
        text = "".join(banner)
        assert f"web console      http://localhost:{console}" in text
        found = re.search(r"username (\S+)\s+password (\S+)", text)
        assert found, text
        username, password = found.groups()

        with httpx.Client(base_url=f"http://127.0.0.1:{console}", timeout=30) as browser:
            assert browser.get("/readyz").status_code == 200
            login = browser.get("/login")
            signed_in = browser.post(
                "/login",
                data={"csrf_token": csrf_of(login.text), "username": username, "password": password},
            )
            assert signed_in.status_code == 303 and signed_in.headers["location"] == "/password"
            assert browser.get("/queue").headers["location"] == "/password"  # nothing else first
            form = browser.get("/password")
            changed = browser.post(
                "/password",
                data={
                    "csrf_token": csrf_of(form.text),
                    "current": password,
                    "new": NEW_PASSWORD,
                    "repeat": NEW_PASSWORD,
                },
            )
            assert changed.status_code == 303, changed.text
            queue = browser.get("/queue")
            assert queue.status_code == 200 and "Work queue" in queue.text and username in queue.text
            board = browser.get("/dashboard")
            assert board.status_code == 200 and "Claims by state" in board.text

        up.send_signal(signal.SIGINT)
        _, err = up.communicate(timeout=60)
    finally:
        up.kill()
    assert up.returncode == 0, err
