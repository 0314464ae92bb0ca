"""Where an encounter field goes in the 837: the loop and segment (5010 TR3 X222A1 / X223A2) it feeds.

A finding names the encounter path (`service_lines[1].modifiers`); the biller and the clearinghouse's
reports speak of loops and segments (`2400 SV101-3`), so every finding carries both.
"""

from __future__ import annotations

import re
from functools import lru_cache

from claimflow.claims.encounter import ClaimKind

_INDEX = re.compile(r"\[\d+\]")

# encounter path without indices -> (837P, 837I); the longest matching prefix wins
_SEGMENTS: dict[str, tuple[str, str]] = {
    "patient": ("2010CA NM1*QC", "2010CA NM1*QC"),
    "patient.last_name": ("2010CA NM103", "2010CA NM103"),
    "patient.first_name": ("2010CA NM104", "2010CA NM104"),
    "patient.birth_date": ("2010CA DMG02", "2010CA DMG02"),
    "patient.sex": ("2010CA DMG03", "2010CA DMG03"),
    "patient.address": ("2010CA N3/N4", "2010CA N3/N4"),
    "patient.address.state": ("2010CA N402", "2010CA N402"),
    "patient.address.postal_code": ("2010CA N403", "2010CA N403"),
    "subscriber": ("2010BA NM1*IL", "2010BA NM1*IL"),
    "subscriber.birth_date": ("2010BA DMG02", "2010BA DMG02"),
    "subscriber.sex": ("2010BA DMG03", "2010BA DMG03"),
    "subscriber.address": ("2010BA N3/N4", "2010BA N3/N4"),
    "subscriber.address.state": ("2010BA N402", "2010BA N402"),
    "subscriber.address.postal_code": ("2010BA N403", "2010BA N403"),
    "relationship": ("2000B SBR02 / 2000C PAT01", "2000B SBR02 / 2000C PAT01"),
    "coverage": ("2000B SBR", "2000B SBR"),
    "coverage.member_id": ("2010BA NM109", "2010BA NM109"),
    "coverage.filing_indicator": ("2000B SBR09", "2000B SBR09"),
    "coverage.group_number": ("2000B SBR03", "2000B SBR03"),
    "coverage.payer_id": ("2010BB NM109", "2010BB NM109"),
    "coverage.payer_name": ("2010BB NM103", "2010BB NM103"),
    "coverage.payer_address": ("2010BB N3/N4", "2010BB N3/N4"),
    "coverage.period": ("2000B SBR (checked against the 271 EB/DTP*291)", "2000B SBR"),
    "billing_provider": ("2010AA NM1*85", "2010AA NM1*85"),
    "billing_provider.npi": ("2010AA NM109", "2010AA NM109"),
    "billing_provider.tax_id": ("2010AA REF*EI", "2010AA REF*EI"),
    "billing_provider.taxonomy": ("2000A PRV03", "2000A PRV03"),
    "billing_provider.address": ("2010AA N3/N4", "2010AA N3/N4"),
    "billing_provider.address.state": ("2010AA N402", "2010AA N402"),
    "billing_provider.address.postal_code": ("2010AA N403", "2010AA N403"),
    "rendering_provider": ("2310B NM1*82", "2310D NM1*82"),
    "rendering_provider.npi": ("2310B NM109", "2310D NM109"),
    "rendering_provider.taxonomy": ("2310B PRV03", "2310D PRV03"),
    "referring_provider": ("2310A NM1*DN", "2310F NM1*DN"),
    "referring_provider.npi": ("2310A NM109", "2310F NM109"),
    "facility": ("2310C NM1*77", "2310E NM1*77"),
    "facility.npi": ("2310C NM109", "2310E NM109"),
    "facility.address": ("2310C N3/N4", "2310E N3/N4"),
    "facility.address.state": ("2310C N402", "2310E N402"),
    "facility.address.postal_code": ("2310C N403", "2310E N403"),
    "place_of_service": ("2300 CLM05-1", "2300 CLM05-1"),
    "service_date": ("2400 DTP*472", "2300 DTP*434"),
    "diagnoses": ("2300 HI*ABK/ABF", "2300 HI*ABK/ABF"),
    "prior_authorization": ("2300 REF*G1", "2300 REF*G1"),
    "reported_total_charge": ("2300 CLM02", "2300 CLM02"),
    "frequency": ("2300 CLM05-3", "2300 CLM05-3"),
    "original_claim_number": ("2300 REF*F8", "2300 REF*F8"),
    "service_lines": ("2400 LX", "2400 LX"),
    "service_lines.procedure_code": ("2400 SV101-2", "2400 SV202-2"),
    "service_lines.modifiers": ("2400 SV101-3..6", "2400 SV202-3..6"),
    "service_lines.charge": ("2400 SV102", "2400 SV203"),
    "service_lines.units": ("2400 SV104", "2400 SV205"),
    "service_lines.place_of_service": ("2400 SV105", "2400 SV105"),
    "service_lines.diagnosis_pointers": ("2400 SV107", "2300 HI (837I lines carry no pointers)"),
    "service_lines.service_date": ("2400 DTP*472", "2400 DTP*472"),
    "service_lines.revenue_code": ("2400 SV101 (837P has no revenue code)", "2400 SV201"),
    "institutional": ("2300 CLM05 (837I only)", "2300 CL1"),
    "institutional.type_of_bill": ("2300 CLM05", "2300 CLM05-1/CLM05-3"),
    "institutional.admission_type": ("2300 CL1", "2300 CL101"),
    "institutional.admission_source": ("2300 CL1", "2300 CL102"),
    "institutional.patient_status": ("2300 CL1", "2300 CL103"),
    "institutional.admission_date": ("2300 DTP*435", "2300 DTP*435"),
    "institutional.statement_from": ("2300 DTP*434", "2300 DTP*434"),
    "institutional.statement_to": ("2300 DTP*434", "2300 DTP*434"),
    "institutional.attending_provider": ("2310A NM1*71", "2310A NM1*71"),
    "institutional.attending_provider.npi": ("2310A NM109", "2310A NM109"),
    "institutional.attending_provider.taxonomy": ("2310A PRV03", "2310A PRV03"),
}


@lru_cache(maxsize=1024)
def x12_location(path: str, kind: ClaimKind, *, patient_is_subscriber: bool = False) -> str | None:
    """The 837 loop and segment an encounter path feeds, or None when it feeds none.

    A patient who is the subscriber is sent in the subscriber loop (2010BA), with no 2000C/2010CA."""
    key = _INDEX.sub("", path)
    while key:
        found = _SEGMENTS.get(key)
        if found is not None:
            segment = found[0] if kind is ClaimKind.PROFESSIONAL else found[1]
            if patient_is_subscriber and key.startswith("patient"):
                segment = segment.replace("2010CA", "2010BA")
            return segment
        key = key.rpartition(".")[0]
    return None
