"""CMS code sets for the scrubber: ICD-10-CM, HCPCS Level II, NCCI PTP/MUE/add-on edits, place of service.

`default_codesets()` loads the index shipped in this package (built by `claimflow codesets update`);
`CodeSets.from_files` loads one given as bytes. Sources and licences: SOURCES.md beside this file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files

from claimflow.claims.codesets.build import (
    MUE_SETTINGS,
    Row,
    SourceKind,
    apply_order_file,
    build_add_ons,
    build_age_ranges,
    build_diagnoses,
    build_hcpcs,
    build_hcpcs_modifiers,
    build_mue,
    build_places_of_service,
    build_ptp,
    classify,
    order_file_effective_date,
)
from claimflow.claims.codesets.tables import CoreTables, PtpTable, dump, load

__all__ = ["CodeSets", "SourceFile", "SourceKind", "classify", "default_codesets", "update_codesets"]

CORE_FILE = "core.bin"
PTP_FILES = {"practitioner": "ptp_practitioner.bin", "outpatient_hospital": "ptp_outpatient.bin"}


@dataclass(frozen=True)
class CodeSets:
    core: CoreTables
    ptp: Mapping[str, PtpTable]
    """setting (practitioner, outpatient_hospital) -> its NCCI PTP edits."""

    def to_files(self) -> dict[str, bytes]:
        """The index as file name -> contents, for the caller to write."""
        blobs = {CORE_FILE: dump(self.core)}
        for setting, name in PTP_FILES.items():
            blobs[name] = dump(self.ptp[setting].to_state())
        return blobs

    @classmethod
    def from_files(cls, blobs: Mapping[str, bytes]) -> CodeSets:
        missing = [name for name in (CORE_FILE, *PTP_FILES.values()) if name not in blobs]
        if missing:
            raise ValueError(
                f"code-set index is missing {', '.join(missing)}: run `claimflow codesets update DIR`"
            )
        core = load(blobs[CORE_FILE], "core code-set")
        ptp = {
            setting: PtpTable.from_state(load(blobs[name], f"NCCI PTP {setting}"))
            for setting, name in PTP_FILES.items()
        }
        return cls(core=core, ptp=ptp)


@cache
def default_codesets() -> CodeSets:
    """The index shipped in the package, loaded once per process (reads package data only)."""
    folder = files(__package__).joinpath("data")
    names = (CORE_FILE, *PTP_FILES.values())
    return CodeSets.from_files({name: folder.joinpath(name).read_bytes() for name in names})


@dataclass(frozen=True)
class SourceFile:
    """One file of an update directory, already split into rows (or lines, for the ICD-10-CM order file)."""

    name: str
    kind: SourceKind
    rows: Sequence[Row]


_MUE_SETTING_OF = {
    SourceKind.MUE_PRACTITIONER: "practitioner",
    SourceKind.MUE_OUTPATIENT: "outpatient_hospital",
    SourceKind.MUE_DME: "dme_supplier",
}


def update_codesets(
    current: CodeSets | None, sources: list[SourceFile], keep_deleted_since: date
) -> tuple[CodeSets, list[str]]:
    """Rebuild every table for which `sources` holds a file; keep the others from `current`.

    Returns the new code sets and one line per table saying what it was rebuilt from.
    """
    by_kind: dict[SourceKind, list[SourceFile]] = {}
    for source in sources:
        by_kind.setdefault(source.kind, []).append(source)
    if current is None:
        needed = {
            SourceKind.ICD10CM_MCE,
            SourceKind.MCE_AGE_RANGES,
            SourceKind.HCPCS,
            SourceKind.ADD_ON,
            SourceKind.PLACE_OF_SERVICE,
            SourceKind.HCPCS_MODIFIERS,
            SourceKind.PTP_PRACTITIONER,
            SourceKind.PTP_OUTPATIENT,
        }
        absent = sorted(kind.value for kind in needed - by_kind.keys())
        if absent:
            raise ValueError(f"no current index to keep, and the directory lacks: {', '.join(absent)}")
    notes: dict[str, str] = dict(current.core.release_notes) if current else {}
    changed: list[str] = []

    def names(kind: SourceKind) -> str:
        return ", ".join(source.name for source in by_kind[kind])

    def rows(kind: SourceKind) -> list[Row]:
        return [row for source in by_kind[kind] for row in source.rows]

    diagnoses = current.core.diagnoses if current else None
    if SourceKind.ICD10CM_MCE in by_kind:
        age_ranges = (
            build_age_ranges(rows(SourceKind.MCE_AGE_RANGES))
            if SourceKind.MCE_AGE_RANGES in by_kind
            else diagnoses.age_ranges
            if diagnoses
            else ()
        )
        diagnoses = build_diagnoses(rows(SourceKind.ICD10CM_MCE), age_ranges)
        notes["icd10cm"] = names(SourceKind.ICD10CM_MCE)
        changed.append("icd10cm")
    for source in sorted(by_kind.get(SourceKind.ICD10CM_ORDER, []), key=lambda source: source.name):
        if diagnoses is None:
            raise ValueError(
                "an ICD-10-CM order file updates an existing table; give the MCE validity CSV too"
            )
        effective = order_file_effective_date(source.name)
        diagnoses = apply_order_file(diagnoses, ("".join(row) for row in source.rows), effective)
        notes["icd10cm"] = f"{notes.get('icd10cm', '')} + {source.name} from {effective}".strip(" +")
        changed.append("icd10cm")
    if diagnoses is None:
        raise ValueError("no ICD-10-CM table: give icd10cm_mce_validity.csv")
    hcpcs = current.core.hcpcs if current else {}
    if SourceKind.HCPCS in by_kind:
        hcpcs = build_hcpcs(rows(SourceKind.HCPCS))
        notes["hcpcs"] = names(SourceKind.HCPCS)
        changed.append("hcpcs")
    modifiers = current.core.hcpcs_modifiers if current else frozenset()
    if SourceKind.HCPCS_MODIFIERS in by_kind:
        modifiers = build_hcpcs_modifiers(rows(SourceKind.HCPCS_MODIFIERS))
        notes["hcpcs_modifiers"] = names(SourceKind.HCPCS_MODIFIERS)
        changed.append("hcpcs_modifiers")
    mue = dict(current.core.mue) if current else {}
    if SourceKind.MUE_COMBINED in by_kind:
        mue.update(build_mue(rows(SourceKind.MUE_COMBINED), None))
        notes["mue"] = names(SourceKind.MUE_COMBINED)
        changed.append("mue")
    for kind, setting in _MUE_SETTING_OF.items():
        if kind in by_kind:
            mue.update(build_mue(rows(kind), setting))
            notes[f"mue_{setting}"] = names(kind)
            changed.append(f"mue {setting}")
    add_ons = current.core.add_ons if current else {}
    if SourceKind.ADD_ON in by_kind:
        add_ons = build_add_ons(rows(SourceKind.ADD_ON))
        notes["add_on"] = names(SourceKind.ADD_ON)
        changed.append("add_on")
    places = current.core.places_of_service if current else {}
    if SourceKind.PLACE_OF_SERVICE in by_kind:
        places = build_places_of_service(rows(SourceKind.PLACE_OF_SERVICE))
        notes["place_of_service"] = names(SourceKind.PLACE_OF_SERVICE)
        changed.append("place_of_service")
    ptp = dict(current.ptp) if current else {}
    for kind, setting in (
        (SourceKind.PTP_PRACTITIONER, "practitioner"),
        (SourceKind.PTP_OUTPATIENT, "outpatient_hospital"),
    ):
        if kind in by_kind:
            ptp[setting] = build_ptp(rows(kind), keep_deleted_since)
            notes[f"ptp_{setting}"] = f"{names(kind)}; deleted edits kept from {keep_deleted_since}"
            changed.append(f"ptp {setting}")
    missing_mue = [setting for setting in MUE_SETTINGS if setting not in mue]
    if missing_mue:
        raise ValueError(f"no MUE values for {', '.join(missing_mue)}: give the CMS MUE file for each")
    core = CoreTables(
        diagnoses=diagnoses,
        hcpcs=hcpcs,
        mue=mue,
        add_ons=add_ons,
        places_of_service=places,
        hcpcs_modifiers=modifiers,
        release_notes=notes,
    )
    if current is not None and not changed:
        raise ValueError("the directory holds no code-set file this command knows (see SOURCES.md for names)")
    return CodeSets(core=core, ptp=ptp), changed
