"""Search attributes of a claim: how billers and managers find claims. Never PHI (stored in clear)."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.common import SearchAttributeKey

CLAIM_STATE = SearchAttributeKey.for_keyword("ClaimState")
PAYER_ID = SearchAttributeKey.for_keyword("PayerId")
OPEN_TASK = SearchAttributeKey.for_keyword_list("OpenTask")
TASK_PRIORITY = SearchAttributeKey.for_int("TaskPriority")
ASSIGNED_TO = SearchAttributeKey.for_keyword("AssignedTo")
TIMELY_FILING_DEADLINE = SearchAttributeKey.for_datetime("TimelyFilingDeadline")
LAST_PROGRESS_AT = SearchAttributeKey.for_datetime("LastProgressAt")
BILLED_AMOUNT = SearchAttributeKey.for_float("BilledAmount")

ALL = (
    CLAIM_STATE,
    PAYER_ID,
    OPEN_TASK,
    TASK_PRIORITY,
    ASSIGNED_TO,
    TIMELY_FILING_DEADLINE,
    LAST_PROGRESS_AT,
    BILLED_AMOUNT,
)


def dev_server_flags() -> list[str]:
    """`temporal server start-dev --search-attribute Name=Type` flags registering them all."""
    flags = []
    for key in ALL:
        kind = IndexedValueType.Name(IndexedValueType.ValueType(key.indexed_value_type.value)).removeprefix(
            "INDEXED_VALUE_TYPE_"
        )
        flags += ["--search-attribute", f"{key.name}={_CLI_NAMES[kind]}"]
    return flags


_CLI_NAMES = {
    "KEYWORD": "Keyword",
    "KEYWORD_LIST": "KeywordList",
    "INT": "Int",
    "DATETIME": "Datetime",
    "DOUBLE": "Double",
}
