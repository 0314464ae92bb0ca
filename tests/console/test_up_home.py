"""What `claimflow up` takes from its home and tells the person: the payers the home was started
with (the demo's fast ones), `--payers FILE` to change them, and the settings a second terminal needs."""

from __future__ import annotations

import inspect
import re
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from claimflow.console.demo_cli import demo, fast_payers
from claimflow.console.main import app
from claimflow.console.stack import Stack, StackConfig
from claimflow.console.up_cli import HOME_PAYERS, home_payers, print_started
from claimflow.integrations.sandbox.config import load_config

SHIPPED = files("claimflow.integrations.sandbox").joinpath("payers.toml")


def slowest_adjudication(payers: Path | None) -> timedelta:
    return timedelta(seconds=max(payer.adjudication_delay for payer in load_config(payers).payers))


def test_a_fresh_home_runs_the_shipped_payers(tmp_path: Path) -> None:
    assert home_payers(tmp_path / "home", None) is None
    assert slowest_adjudication(None) >= timedelta(days=10)


def test_up_after_the_demo_keeps_the_demos_fast_payers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / HOME_PAYERS).write_text(fast_payers())  # what `claimflow demo --home` leaves behind
    payers = home_payers(home, None)
    assert payers == home / HOME_PAYERS
    assert slowest_adjudication(payers) <= timedelta(seconds=2)


def test_payers_option_is_remembered_by_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    mine = tmp_path / "mine.toml"
    mine.write_text(SHIPPED.read_text().replace('adjudication_delay = "', 'adjudication_delay = "7s" # ', 1))
    assert slowest_adjudication(home_payers(home, mine)) >= timedelta(days=10)  # the others unchanged
    mine.unlink()  # the home keeps its own copy
    kept = home_payers(home, None)
    assert kept is not None and load_config(kept).payers[0].adjudication_delay == 7


def test_a_payers_file_the_sandbox_cannot_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[payers]]\nid = 3\n")
    with pytest.raises(typer.Exit) as refused:
        home_payers(tmp_path / "home", bad)
    assert refused.value.exit_code == 2
    result = CliRunner().invoke(app, ["up", "--home", str(tmp_path / "home"), "--payers", str(bad)])
    assert result.exit_code == 2
    assert str(bad) in result.output and "leave out --payers" in result.output
    assert not (tmp_path / "home" / HOME_PAYERS).exists()


def test_the_banner_names_the_payers_and_every_setting_another_terminal_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / HOME_PAYERS).write_text(fast_payers())
    config = StackConfig(home=home, sandbox_port=8799, sandbox_config=home_payers(home, None))
    print_started(Stack(config))
    banner = " ".join(capsys.readouterr().out.split())
    assert f"sandbox payers {home / HOME_PAYERS}" in banner
    assert (
        f"export TEMPORAL_ADDRESS=127.0.0.1:7233 CLAIMFLOW_HOME={home} CLEARINGHOUSE_URL=http://127.0.0.1:8799"
        in banner
    )
    assert "Ctrl-C" not in banner  # `up` adds it; the demo, which stops by itself, does not


def test_the_readme_tour_runs_up_on_the_demos_home_with_its_fast_payers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tour as written: `scripts/demo` (the demo's default home), then `claimflow up --home ..`
    on it; that `up` finds the demo's fast payers, so nothing resubmitted waits days."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    tour = readme[readme.index("## A five-minute tour") : readme.index("## Command line")]
    assert "scripts/demo`" in tour
    (up_home,) = set(re.findall(r"claimflow up --home (\S+?)`", tour))
    demo_home = inspect.signature(demo).parameters["home"].default
    assert Path(up_home) == demo_home
    assert "CLEARINGHOUSE_URL=" in tour  # the second terminal's export names the sandbox too
    monkeypatch.chdir(tmp_path)  # a fresh checkout: nothing in .claimflow yet
    assert home_payers(Path(up_home).resolve(), None) is None
    Path(up_home).mkdir()
    (Path(up_home) / HOME_PAYERS).write_text(fast_payers())  # as `demo` leaves it
    kept = load_config(home_payers(Path(up_home).resolve(), None))
    delays = [kept.clearinghouse.acknowledgement_delay] + [
        delay for payer in kept.payers for delay in (payer.adjudication_delay, payer.appeal_decision_delay)
    ]  # the 999 and 277CA, the 835, an appeal's decision: nothing the tour resubmits waits on the world
    assert max(delays) <= 5
