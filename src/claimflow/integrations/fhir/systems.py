"""Code system and identifier system URIs the intake recognises."""

from __future__ import annotations

NPI = "http://hl7.org/fhir/sid/us-npi"
TAX_ID = "urn:oid:2.16.840.1.113883.4.4"
ICD10CM = frozenset({"http://hl7.org/fhir/sid/icd-10-cm", "urn:oid:2.16.840.1.113883.6.90"})
CPT = frozenset({"http://www.ama-assn.org/go/cpt", "urn:oid:2.16.840.1.113883.6.12"})
HCPCS = frozenset(
    {
        "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "urn:oid:2.16.840.1.113883.6.285",
        "urn:oid:2.16.840.1.113883.6.14",
    }
)
PLACE_OF_SERVICE = frozenset(
    {
        "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
        "http://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
        "urn:oid:2.16.840.1.113883.15.5",
    }
)
SOURCE_OF_PAYMENT = frozenset({"https://nahdo.org/sopt", "urn:oid:2.16.840.1.113883.3.221.5"})
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
PAYER_ID_TYPE = "NIIP"
NUCC_TAXONOMY = "http://nucc.org/provider-taxonomy"
REVENUE_CODES = frozenset(
    {"https://www.nubc.org/CodeSystem/RevenueCodes", "http://www.nubc.org/RevenueCodes"}
)
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
