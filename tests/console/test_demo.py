"""`claimflow demo` end to end: the real stack, 30 claims of the shipped batch, twice on one home."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claimflow.console.claims_client import saved_searches
from claimflow.console.demo_batch import ANCHOR, load_demo_batch
from claimflow.console.up_cli import HOME_PAYERS, home_payers
from tests.ports import free_ports

LIMIT = 30
# What each kind of trouble in the batch must leave behind: (summary table, row) with a count > 0.
EVIDENCE = {
    "clean": [("state", "patient_billing")],
    "coding_hold": [("task", "coding")],
    "near_timely_filing": [("task", "coding"), ("task", "timely_filing_risk")],
    "missing_demographics": [("task", "fix_demographics")],
    "inactive_coverage": [("task", "coverage_issue")],
    "bad_rendering_npi": [("task", "scrub_failure")],
    "invalid_diagnosis": [("task", "scrub_failure")],
    "units_over_mue": [("task", "scrub_failure")],
    "missing_laterality": [("task", "denial"), ("denial", "correct_and_resubmit")],
    "not_medically_necessary": [("task", "appeal_review"), ("denial", "appeal"), ("state", "appealing")],
    "missing_authorization": [("denial", "appeal")],
    "duplicate": [("denial", "write_off")],
    "coordination": [("state", "patient_billing")],
}
SECTIONS = {"state": "claims by state", "task": "open tasks by kind", "denial": "denials by category"}


def run_demo(home: Path, ports: list[int], *extra: str) -> subprocess.CompletedProcess[str]:
    claimflow = Path(sys.executable).with_name("claimflow")
    command = [str(claimflow), "demo", "--home", str(home), "--limit", str(LIMIT)]
    command += ["--port", str(ports[0]), "--ui-port", str(ports[1]), "--sandbox-port", str(ports[2])]
    metrics, codec, console = free_ports(3)  # never the fixed defaults another run on the machine holds
    command += ["--metrics-port", str(metrics), "--codec-port", str(codec), "--console-port", str(console)]
    return subprocess.run(
        [*command, *extra], capture_output=True, text=True, timeout=600, env={"PATH": "/usr/bin:/bin"}
    )


def table_rows(output: str, title: str) -> dict[str, int]:
    """The rows of one summary table: name -> count (the number that starts its second column)."""
    section = output.split(title, 1)[1].split("└", 1)[0]
    return {match.group(1): int(match.group(2)) for match in re.finditer(r"│ ([a-z_]+)\s+│ (\d+)", section)}


@pytest.mark.slow
def test_demo_runs_the_batch_and_twice_is_safe(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ports = free_ports(3)
    first = run_demo(home, ports)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"submitted {LIMIT} claims from the sample batch" in first.stdout
    assert "--timeout reached" not in first.stdout
    troubles = Counter(claim.trouble for claim in load_demo_batch(ANCHOR, LIMIT))
    for trouble in troubles:
        for section, row in EVIDENCE[trouble]:
            rows = table_rows(first.stdout, SECTIONS[section])
            assert rows.get(row, 0) > 0, f"{trouble}: no {row} in {SECTIONS[section]}\n{first.stdout}"
    for figure in ("charges", "paid", "patient responsibility", "adjusted"):
        amount = re.search(rf"{figure}\s+\$([\d,.]+)", first.stdout)
        assert amount is not None and float(amount.group(1).replace(",", "")) > 0, figure
    assert re.search(r"clean-claim rate\s+[1-9]\d*%", first.stdout)
    # claims with other coverage went on to the next payer
    if troubles["coordination"]:
        cob = first.stdout.split("coordination of benefits", 1)[1].split("└", 1)[0]
        assert re.search(r"│\s+[1-9]\d*\s+│\s+[1-9]\d*\s+│", cob), cob
    # Lakeside PPO allows its office visits under 152% of Medicare (claims 17, 22, 28 and 29 of the batch)
    underpaid = first.stdout.split("underpayments by payer", 1)[1].split("└", 1)[0]
    assert "SMPPPO" in underpaid, underpaid
    assert re.search(r"first-pass resolution\s+[1-9]\d*%", first.stdout)
    assert str(home / "documents" / "statements") in first.stdout
    assert "TaskPriority >= 3" in first.stdout
    # it stops by itself, so it never asks for Ctrl-C; a second terminal gets every setting it needs
    assert "Press Ctrl-C" not in first.stdout and "stops by itself" in first.stdout
    assert f"CLEARINGHOUSE_URL=http://127.0.0.1:{ports[2]}" in first.stdout
    # the saved searches are `stuck`'s, by name and query (the times in them are the run's)
    for search in saved_searches(7, datetime.now(UTC)):
        assert search.name in first.stdout
        assert search.query.split(" < ")[0].split(" <= ")[0] in first.stdout
    # `up` on the demo's home keeps the demo's fast payers
    assert home_payers(home, None) == home / HOME_PAYERS

    again = run_demo(home, ports, "--timeout", "120")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"submitted 0 claims from the sample batch; {LIMIT} already existed" in again.stdout
    assert sum(table_rows(again.stdout, SECTIONS["state"]).values()) == LIMIT


def summary(output: str) -> str:
    """The demo's summary: its tables and figures, without the paths of its home."""
    return output.split("claims by state", 1)[1].split("letters and statements", 1)[0]


@pytest.mark.slow
def test_the_demo_over_sftp_has_the_same_summary_as_over_http(tmp_path: Path) -> None:
    over_http = run_demo(tmp_path / "http", free_ports(3))
    assert over_http.returncode == 0, over_http.stdout + over_http.stderr
    ports = free_ports(4)
    home = tmp_path / "sftp"
    over_sftp = run_demo(home, ports[:3], "--transport", "sftp", "--sftp-port", str(ports[3]))
    assert over_sftp.returncode == 0, over_sftp.stdout + over_sftp.stderr
    (tmp_path / "http.out").write_text(over_http.stdout)
    (tmp_path / "sftp.out").write_text(over_sftp.stdout)
    assert summary(over_sftp.stdout) == summary(over_http.stdout)
    assert f"SFTP mailbox     127.0.0.1:{ports[3]}" in over_sftp.stdout
    assert f"CLEARINGHOUSE_PROFILE={home / 'sftp' / 'client-profile.toml'}" in over_sftp.stdout
    # the claims went through the mailbox: every 837 uploaded was taken, every payer file collected
    mailbox = home / "sftp" / "mailbox" / "claimflow"
    collected = os.listdir(mailbox / "archive")
    assert {name.split(".")[1] for name in collected} >= {"999", "277CA", "835"}
    assert os.listdir(mailbox / "upload") == []
    with_835 = re.search(r"denial rate\s+\d+% \(\d+ of (\d+)\)", over_sftp.stdout)
    assert with_835 is not None
    uploads = (home / "logs" / "worker.log").read_text().count("interchange uploaded")
    assert uploads >= int(with_835.group(1)) > 0  # every claim paid or denied was sent as a file
