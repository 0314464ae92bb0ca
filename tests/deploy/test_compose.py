"""docker-compose.yml and the Dockerfile, checked without a Docker engine: what would break a deploy."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from claimflow.console.main import app
from claimflow.integrations.settings import PERSONAL_VARIABLES, VARIABLES
from claimflow.workflows.search_attributes import dev_server_flags

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# `${NAME}`, `${NAME:-default}`, `${NAME:?message}`: compose interpolation ($$ is a literal $).
INTERPOLATION = re.compile(r"(?<!\$)\$\{(\w+)(:?[-?])?([^}]*)\}")
ENV_READ = re.compile(
    r"""(?:os\.environ(?:\.get)?\s*[\[(]|os\.getenv\s*\(|environ\.get\s*\()\s*["'](\w+)["']"""
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict) and isinstance(document.get("services"), dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def claimflow_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services built from the repository's Dockerfile: the ones running claimflow's code."""
    built = {name: service for name, service in services.items() if "build" in service}
    assert {"worker", "sandbox", "console"} <= set(built)
    return built


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def test_every_dependency_is_a_defined_service_with_a_usable_condition(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        targets = depends if isinstance(depends, dict) else {target: {} for target in depends}
        for target, spec in targets.items():
            assert target in services, f"{name} depends on {target}, which is not defined"
            condition = (spec or {}).get("condition", "service_started")
            assert condition in CONDITIONS, f"{name} -> {target}: unknown condition {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}'s health: none defined"
            if condition == "service_completed_successfully":
                assert services[target].get("restart") in ("no", "on-failure"), f"{target} must end"


def test_every_variable_the_code_reads_is_set_for_claimflow_services(
    services: dict[str, dict[str, Any]],
) -> None:
    read_by_code = {variable.name for variable in VARIABLES} | _other_environment_reads()
    for name, service in claimflow_services(services).items():
        environment = environment_of(service)
        missing = sorted(read_by_code - PERSONAL_VARIABLES - set(environment))
        assert not missing, f"{name} does not set {missing}"
        # Who acts is a person's, not a service's: only the command-line tool passes it on, from the shell.
        personal = {variable: environment[variable] for variable in PERSONAL_VARIABLES & set(environment)}
        if name == "console":
            assert personal == {"CLAIMFLOW_TOKEN": ""}  # passed through from the shell
        else:
            assert not personal, f"{name} sets {sorted(personal)}: a service would act as that person"
        for variable, value in environment.items():
            for reference, operator, default in INTERPOLATION.findall(value):
                assert operator in (":-", ":?") and default, (
                    f"{name}: {variable} uses ${{{reference}}} without a default or a required message"
                )


def test_the_grep_for_environment_reads_finds_them() -> None:
    """The check above is only as good as the pattern that finds other reads."""
    sample = 'os.environ["A"]; os.environ.get("B"); os.getenv("C", "x"); environ.get("D")'
    assert set(ENV_READ.findall(sample)) == {"A", "B", "C", "D"}


def test_workers_scale_by_replicas_and_the_production_images_are_the_official_ones(
    services: dict[str, dict[str, Any]],
) -> None:
    replicas = str(services["worker"]["deploy"]["replicas"])
    assert replicas.isdigit() or INTERPOLATION.fullmatch(replicas)
    images = {name: str(service.get("image", "")) for name, service in services.items()}
    assert images["temporal"].startswith("temporalio/server:")
    assert images["temporal-ui"].startswith("temporalio/ui:")
    assert images["temporal-schema"].startswith("temporalio/admin-tools:")
    assert not [image for image in images.values() if "auto-setup" in image]
    assert images["ledger-db"].startswith("postgres:") and images["temporal-db"].startswith("postgres:")
    assert "TEMPORAL_CODEC_ENDPOINT" in environment_of(services["temporal-ui"])
    database_url = environment_of(services["worker"])["DATABASE_URL"]
    assert database_url.startswith("postgresql+psycopg2://") and "@ledger-db:" in database_url


def test_bootstrap_registers_every_search_attribute_with_its_type(
    services: dict[str, dict[str, Any]],
) -> None:
    wanted = {flag for flag in dev_server_flags() if flag != "--search-attribute"}
    script = " ".join(services["temporal-bootstrap"]["command"])
    registered = set(re.findall(r"\b(\w+=(?:Keyword|KeywordList|Int|Datetime|Double|Bool|Text))\b", script))
    assert registered == wanted
    assert "search-attribute create" in script and "namespace create" in script


def test_commands_name_real_modules_and_claimflow_subcommands(services: dict[str, dict[str, Any]]) -> None:
    commands = {"Dockerfile CMD": _dockerfile_exec_form("CMD")}
    for name, service in claimflow_services(services).items():
        entrypoint = service.get("entrypoint") or []
        command = service.get("command") or []
        assert isinstance(entrypoint, list) and isinstance(command, list), f"{name}: use the exec form"
        commands[name] = [*entrypoint, *command]
    for where, argv in commands.items():
        _check_runs(where, argv)


def test_dockerfile_copies_what_exists() -> None:
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY "):
            for source in shlex.split(line)[1:-1]:
                assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def _check_runs(where: str, argv: list[str]) -> None:
    assert argv, f"{where}: no command"
    program = argv[0]
    if program == "python" and argv[1] == "-m":
        module = argv[2]
        assert importlib.util.find_spec(module) is not None, f"{where}: no module {module}"
        assert importlib.util.find_spec(f"{module}.__main__") is not None, (
            f"{where}: {module} is not runnable"
        )
    elif program == "python" and argv[1] == "-c":
        _check_imports(where, argv[2])
    elif program == "claimflow":
        group = typer.main.get_command(app)
        subcommands = getattr(group, "commands", {})
        assert argv[1] in subcommands, f"{where}: `claimflow {argv[1]}` is not a command"
    else:
        raise AssertionError(f"{where}: runs {program!r}, which this test does not know")


def _check_imports(where: str, code: str) -> None:
    tree = ast.parse(code)
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imports, f"{where}: python -c imports nothing of claimflow"
    for node in imports:
        module = importlib.import_module(node.module or "")
        for alias in node.names:
            assert hasattr(module, alias.name), f"{where}: {node.module} has no {alias.name}"


def _dockerfile_exec_form(instruction: str) -> list[str]:
    lines = [line for line in DOCKERFILE.read_text().splitlines() if line.startswith(f"{instruction} ")]
    assert lines, f"the Dockerfile has no {instruction}"
    argv = json.loads(lines[-1].removeprefix(f"{instruction} "))
    assert isinstance(argv, list) and all(isinstance(arg, str) for arg in argv)
    return argv


def _other_environment_reads() -> set[str]:
    """Variables read by name anywhere in src/ besides settings.VARIABLES."""
    names: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        names |= set(ENV_READ.findall(path.read_text(encoding="utf-8")))
    return names
