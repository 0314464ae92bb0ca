"""The README's reference sections say what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from claimflow.console.main import app
from claimflow.console.reference import configuration_table
from claimflow.workflows.search_attributes import dev_server_flags

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_configuration_table_is_generated_from_the_variables() -> None:
    assert configuration_table() in README


def test_every_documented_command_exists() -> None:
    section = README[README.index("## Command line") : README.index("## Configuration")]
    documented = set(re.findall(r"^\| `claimflow ([\w-]+)", section, flags=re.MULTILINE))
    group = typer.main.get_command(app)
    registered = set(getattr(group, "commands", {}))
    assert documented <= registered, (
        f"the README documents commands that do not exist: {documented - registered}"
    )
    # The rest have their own sections: the demo on the first screen, the X12 tools and the sandbox below.
    assert registered - documented == {"demo", "scrub", "x12", "codesets", "sandbox"}


def test_every_subcommand_the_readme_runs_exists() -> None:
    group = typer.main.get_command(app)
    groups = {
        name: command
        for name, command in getattr(group, "commands", {}).items()
        if hasattr(command, "commands")
    }
    used = set(re.findall(r"claimflow (\w+) (\w+)", README))
    missing = [f"{name} {sub}" for name, sub in used if name in groups and sub not in groups[name].commands]
    assert {name for name, _ in used} & groups.keys() >= {"task", "claim"}
    assert not missing, f"the README runs commands that do not exist: {missing}"


def test_production_section_registers_every_search_attribute() -> None:
    section = README[README.index("## Running in production") :]
    registered = {f"{name}={kind}" for name, kind in re.findall(r"--name (\w+) --type (\w+)", section)}
    assert registered == {flag for flag in dev_server_flags() if flag != "--search-attribute"}
