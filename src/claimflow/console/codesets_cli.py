"""`claimflow codesets ...`: the CMS code sets the scrubber uses."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from claimflow.claims.codesets import CodeSets, SourceFile, SourceKind, classify, update_codesets

app = typer.Typer(help="The code sets the scrubber uses.", no_args_is_help=True)

PACKAGE_INDEX = Path(str(files("claimflow.claims.codesets").joinpath("data")))


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    # CMS files are Windows-1252 more often than UTF-8; both read the code columns alike
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def read_source(path: Path, kind: SourceKind) -> SourceFile:
    """Split a file into rows: fixed-width lines for the ICD-10-CM order file, tab-delimited for
    CMS .txt files, CSV otherwise."""
    text = _text(path)
    if kind is SourceKind.ICD10CM_ORDER:
        rows = [[line] for line in text.splitlines()]
    elif path.name.lower().removesuffix(".gz").endswith(".txt"):
        rows = [line.split("\t") for line in text.splitlines()]
    else:
        rows = list(csv.reader(io.StringIO(text)))
    return SourceFile(name=path.name, kind=kind, rows=rows)


def _current(index: Path) -> CodeSets | None:
    blobs = {path.name: path.read_bytes() for path in index.glob("*.bin")}
    return CodeSets.from_files(blobs) if blobs else None


@app.command("update")
def update(
    directory: Annotated[
        Path, typer.Argument(help="folder holding newer CMS files (names as in SOURCES.md)")
    ],
    out: Annotated[
        Path, typer.Option(help="where to write the index (default: the installed package)")
    ] = PACKAGE_INDEX,
    keep_deleted_since: Annotated[
        str | None,
        typer.Option(help="keep NCCI edits deleted on or after this date (default: 3 years ago)"),
    ] = None,
) -> None:
    """Rebuild the code-set index from the CMS files in DIRECTORY; tables without a file stay as they are."""
    if not directory.is_dir():
        typer.echo(f"error: {directory} is not a directory: give the folder holding the CMS files", err=True)
        raise typer.Exit(2)
    today = date.today()
    since = date.fromisoformat(keep_deleted_since) if keep_deleted_since else date(today.year - 3, 1, 1)
    sources = []
    for path in sorted(directory.iterdir()):
        kind = classify(path.name)
        if kind is None:
            typer.echo(f"skipped {path.name}: not a code-set file this command knows")
            continue
        sources.append(read_source(path, kind))
    try:
        codesets, changed = update_codesets(_current(out), sources, since)
    except ValueError as exc:
        typer.echo(
            f"error: {exc}\n  nothing was written: fix or remove the file it names, then update again",
            err=True,
        )
        raise typer.Exit(1) from exc
    out.mkdir(parents=True, exist_ok=True)
    for name, blob in codesets.to_files().items():
        (out / name).write_bytes(blob)
    typer.echo(f"rebuilt {', '.join(changed)} into {out}")


@app.command("info")
def info(
    index: Annotated[
        Path, typer.Option(help="index folder (default: the installed package)")
    ] = PACKAGE_INDEX,
) -> None:
    """Say what the code-set index holds and which files it was built from."""
    codesets = _current(index)
    if codesets is None:
        typer.echo(f"error: no code-set index in {index}: run `claimflow codesets update DIR`", err=True)
        raise typer.Exit(2)
    core = codesets.core
    typer.echo(f"ICD-10-CM codes:       {len(core.diagnoses.periods):,}")
    typer.echo(f"HCPCS Level II codes:  {len(core.hcpcs):,} ({len(core.hcpcs_modifiers)} modifiers)")
    for setting, table in codesets.ptp.items():
        typer.echo(f"NCCI PTP {setting + ':':20} {len(table):,} edits")
    for setting, limits in core.mue.items():
        typer.echo(f"MUE {setting + ':':25} {len(limits):,} codes")
    typer.echo(f"add-on codes:          {len(core.add_ons):,}")
    typer.echo(f"places of service:     {len(core.places_of_service)}")
    typer.echo("built from:")
    for name, source in sorted(core.release_notes.items()):
        typer.echo(f"  {name}: {source}")
