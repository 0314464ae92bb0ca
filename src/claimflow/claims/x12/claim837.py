"""837P (005010X222A1) and 837I (005010X223A2): `write_837` and `read_837` in one place."""

from claimflow.claims.x12.claim837_read import place_of_service_for_bill_type, read_837, read_837_set
from claimflow.claims.x12.claim837_write import (
    INSTITUTIONAL_VERSION,
    PROFESSIONAL_VERSION,
    batch_kind,
    write_837,
)

__all__ = [
    "INSTITUTIONAL_VERSION",
    "PROFESSIONAL_VERSION",
    "batch_kind",
    "place_of_service_for_bill_type",
    "read_837",
    "read_837_set",
    "write_837",
]
