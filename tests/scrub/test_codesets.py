"""The shipped code-set index, its load time, and `claimflow codesets update` on CMS-format files."""

from __future__ import annotations

import shutil
import time
from datetime import date
from importlib.resources import files
from pathlib import Path

from typer.testing import CliRunner

from claimflow.claims.codesets import CodeSets
from claimflow.claims.codesets.tables import DxFlag
from claimflow.console.main import app

PACKAGE_INDEX = Path(str(files("claimflow.claims.codesets").joinpath("data")))


def _load(folder: Path) -> CodeSets:
    return CodeSets.from_files({path.name: path.read_bytes() for path in folder.glob("*.bin")})


def test_the_shipped_index_loads_in_under_a_second() -> None:
    # CPU time, so that other processes sharing the machine do not make the test flaky
    started = time.process_time()
    codesets = _load(PACKAGE_INDEX)
    elapsed = time.process_time() - started
    assert elapsed < 1.0, elapsed
    assert len(codesets.ptp["practitioner"]) > 1_600_000
    assert len(codesets.ptp["outpatient_hospital"]) > 1_300_000


def test_the_shipped_index_holds_known_cms_entries(codesets: CodeSets) -> None:
    diagnoses = codesets.core.diagnoses
    assert diagnoses.flags_on("E119", date(2026, 5, 1)) == DxFlag(0)
    assert diagnoses.flags_on("E11", date(2026, 5, 1)) is None  # category header, never billable
    assert diagnoses.flags_on("M545", date(2021, 9, 30)) is not None
    assert diagnoses.flags_on("M545", date(2021, 10, 1)) is None
    assert diagnoses.flags_on("O80", date(2026, 5, 1)) == DxFlag.MATERNITY
    assert diagnoses.sex_flags["O80"] == DxFlag.FEMALE  # last published sex list, before CMS emptied it
    edit = codesets.ptp["practitioner"].edit("29881", "29877")
    assert edit is not None and edit.modifier_indicator == 0 and edit.deletion_date == 0
    assert codesets.ptp["practitioner"].edit("29877", "29881") is None
    limit = codesets.core.mue["practitioner"]["99213"]
    assert (limit.units, limit.mai) == (2, 3)
    assert codesets.core.add_ons["99417"].primaries == {"99205", "99215"}
    assert codesets.core.places_of_service["11"] == "Office"
    assert "30" not in codesets.core.places_of_service  # unassigned
    assert codesets.core.hcpcs["C9146"].term_date == 20230630
    assert "GT" in codesets.core.hcpcs_modifiers


CMS_PTP = (
    "CPT only copyright 2023 American Medical Association. All rights reserved.\n"
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date\tModifier\t"
    "PTP Edit Rationale\n"
    "\t\t\t\t*=no data\t0=not allowed\t\n"
    "10060\t11401\t\t20240101\t*\t1\tStandards of medical / surgical practice\n"
    "10060\t11402\t*\t19960101\t20250331\t0\tMutually exclusive procedures\n"
    "10060\t11403\t\t20200101\t20190101\t1\tMisuse of column two code with column one code\n"
    "10060\t11404\t\t20200101\t20230101\t9\tCPT Manual or CMS manual coding instruction\n"
)

CMS_MUE = (
    '"CPT codes and descriptions only are copyright 2024 American Medical Association."\n'
    '"HCPCS/CPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator","MUE Rationale"\n'
    '"99213","3","3 Date of Service Edit: Clinical","Clinical: Data"\n'
    '"J1885","8","3 Date of Service Edit: Clinical","Clinical: Data"\n'
)

CMS_AOC = (
    "Add-on Code\tAdd-On Code Effective Date\tAdd-On Code Deletion Date\tPrimary Code\t"
    "Primary Code Effective Date\tPrimary Code Deletion Date\tAOC Edit Type\n"
    "99417\t20210101\t\t99205\t20210101\t\t1\n"
    "99417\t20210101\t\t99215\t20210101\t\t1\n"
    "G2211\t20240101\t\tCCCCC\t20240101\t\t2\n"
    "0596T\t20200701\t20231231\t0594T\t20200701\t\t1\n"
)


def _order_line(order: int, code: str, billable: bool) -> str:
    return f"{order:05d} {code:<7} {int(billable)} {'SHORT':<60} LONG DESCRIPTION"


def test_update_reads_cms_published_formats(tmp_path: Path) -> None:
    out = tmp_path / "index"
    shutil.copytree(PACKAGE_INDEX, out)
    source = tmp_path / "cms"
    source.mkdir()
    (source / "ccipra-v311r0-f1.txt").write_text(CMS_PTP, encoding="cp1252")
    (source / "MCR_MUE_PractitionerServices_Eff_01-01-2025.csv").write_text(CMS_MUE)
    (source / "AOC_V2025Q1-MCR.txt").write_text(CMS_AOC)
    order = [_order_line(1, "E11", False), _order_line(2, "E119", True), _order_line(3, "Z9990", True)]
    (source / "icd10cm_order_2027.txt").write_text("\n".join(order) + "\n")
    (source / "notes.pdf").write_bytes(b"%PDF")

    result = CliRunner().invoke(
        app, ["codesets", "update", str(source), "--out", str(out), "--keep-deleted-since", "2022-01-01"]
    )
    assert result.exit_code == 0, result.output
    assert "skipped notes.pdf" in result.output

    updated = _load(out)
    ptp = updated.ptp["practitioner"]
    assert len(ptp) == 2  # the 2019 deletion and the indicator-9 row are not kept
    kept = ptp.edit("10060", "11402")
    assert kept is not None and kept.modifier_indicator == 0 and kept.deletion_date == 20250331
    assert not kept.applies_on(date(2025, 4, 1)) and kept.applies_on(date(2025, 3, 31))
    assert ptp.edit("10060", "11403") is None
    assert (
        updated.ptp["outpatient_hospital"] is not None and len(updated.ptp["outpatient_hospital"]) > 1_000_000
    )
    assert updated.core.mue["practitioner"]["99213"].units == 3
    assert "99214" not in updated.core.mue["practitioner"]  # the setting's table is replaced whole
    assert updated.core.mue["outpatient_hospital"]["99213"].units == 2  # other settings kept
    assert set(updated.core.add_ons) == {"99417", "G2211"}
    diagnoses = updated.core.diagnoses
    assert diagnoses.flags_on("Z9990", date(2026, 10, 1)) is not None
    assert diagnoses.flags_on("Z9990", date(2026, 9, 30)) is None
    assert diagnoses.flags_on("E119", date(2026, 11, 1)) is not None
    assert diagnoses.flags_on("I10", date(2026, 9, 30)) is not None  # absent from the new file:
    assert diagnoses.flags_on("I10", date(2026, 10, 1)) is None  # valid until the day before it


def test_update_refuses_a_directory_without_code_sets(tmp_path: Path) -> None:
    out = tmp_path / "index"
    shutil.copytree(PACKAGE_INDEX, out)
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["codesets", "update", str(tmp_path / "empty"), "--out", str(out)])
    assert result.exit_code == 1
    assert "holds no code-set file" in result.output


def test_update_from_scratch_needs_every_table(tmp_path: Path) -> None:
    source = tmp_path / "cms"
    source.mkdir()
    (source / "ccipra-v311r0-f1.txt").write_text(CMS_PTP)
    result = CliRunner().invoke(app, ["codesets", "update", str(source), "--out", str(tmp_path / "new")])
    assert result.exit_code == 1
    assert "lacks" in result.output and "icd10cm_mce" in result.output


ANWEB_CSV = (
    "HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,ADD DT,ACT EFF DT,TERM DT\n"
    "A0021,00100,3,Ambulance service outside state per mile,Outside state ambulance serv,19850101,19960910,\n"
    "A0021,00200,4,(continued description),,,,\n"
    "G9999,00100,3,A code terminated in 2024,Ended code,20200101,20240101,20240331\n"
    "Q0000,00100,3,A 2025 code given without dates,New code,,,\n"
)

MCE_CSV = (
    "code,start_date,end_date,mce_flags\n"
    "E119,2015-10-01,2027-03-31,\n"
    "O80,2015-10-01,2024-09-30,maternity|female\n"
    "O80,2024-10-01,2027-03-31,maternity\n"
)

POS_CSV = (
    "pos_code,facility_type_northstar,pos_name,pos_description\n11,Non-Facility,Office,x\n30,,Unassigned,\n"
)


def test_update_reads_hcpcs_anweb_mce_and_place_of_service(tmp_path: Path) -> None:
    out = tmp_path / "index"
    shutil.copytree(PACKAGE_INDEX, out)
    source = tmp_path / "cms"
    source.mkdir()
    (source / "HCPC2025_JUL_ANWEB_v2.csv").write_text(ANWEB_CSV)
    (source / "icd10cm_mce_validity.csv").write_text(MCE_CSV)
    (source / "cms_place_of_service_codes.csv").write_text(POS_CSV)
    result = CliRunner().invoke(app, ["codesets", "update", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "rebuilt icd10cm, hcpcs, place_of_service" in result.output
    core = _load(out).core
    assert set(core.hcpcs) == {"A0021", "G9999"}
    assert core.hcpcs["G9999"].term_date == 20240331 and core.hcpcs["A0021"].term_date == 0
    assert core.places_of_service == {"11": "Office"}
    diagnoses = core.diagnoses
    assert set(diagnoses.periods) == {"E119", "O80"}
    assert diagnoses.sex_flags == {"O80": DxFlag.FEMALE}  # kept from the last list that had it
    assert diagnoses.age_ranges  # the age ranges of the index being updated are kept
    assert diagnoses.is_header("E11") and not diagnoses.is_header("E119")


def test_info_says_what_the_index_holds() -> None:
    result = CliRunner().invoke(app, ["codesets", "info"])
    assert result.exit_code == 0, result.output
    assert (
        "NCCI PTP practitioner:" in result.output and "ncci_ptp_practitioner_2024q3.csv.gz" in result.output
    )
