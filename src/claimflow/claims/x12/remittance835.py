"""835 health care claim payment/advice (005010X221A1): written to the letter, read from real files.

The reader never refuses a file for not adding up: balancing faults become findings on the
Remittance (see balancing.py). It raises a typed X12 error, naming the segment, only when a value it
needs cannot be read at all (an amount that is not a number, a missing BPR or payer).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation, getcontext
from functools import lru_cache
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from claimflow.claims.encounter import Address
from claimflow.claims.money import as_money
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    BankAccount,
    ClaimPayment,
    ClaimStatusCode,
    Party,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from claimflow.claims.x12.balancing import with_findings
from claimflow.claims.x12.errors import X12StructureError, X12ValueError, X12WriteError
from claimflow.claims.x12.segments import Segment, TransactionSet, format_date, transaction_sets
from claimflow.claims.x12.writer import Envelope, SegmentWriter, TransactionBody, write_interchange

VERSION = "005010X221A1"
CAS_TRIPLES = 6
PLB_PAIRS = 6
MOA_REMARKS = 5
SVC_MODIFIERS = 4
CLP06_CODES = frozenset("12 13 14 15 16 17 AM CH DS HM LM MA MB MC OF TV VA WC ZZ".split())  # noqa: SIM905
"""Claim filing indicators the 835 allows: narrower than the 837's SBR09 (no CI, BL, 09, 10, 11)."""
CAS_GROUPS_5010 = frozenset(["CO", "OA", "PI", "PR"])


def filing_indicator_for_835(sbr09: str) -> str:
    """CLP06 for a claim billed with this SBR09: the same code where the 835 knows it, else ZZ.

    Commercial (CI), Blue Cross (BL), self-pay (09) and other non-federal (11) have no 835 code;
    the guide's ZZ (mutually defined) carries them."""
    return sbr09 if sbr09 in CLP06_CODES else "ZZ"


# --------------------------------------------------------------------------------------------- writing


def write_835(remittances: Sequence[Remittance], envelope: Envelope) -> str:
    """One interchange holding one 835 transaction set per remittance."""
    return write_interchange(envelope, [remittance_body(remittance) for remittance in remittances])


def remittance_body(remittance: Remittance) -> TransactionBody:
    """The segments between ST and SE of one 835."""
    out = SegmentWriter()
    _write_header(out, remittance)
    if remittance.claims:
        out.add("LX", 1)  # one 2000 loop: claims are not sorted into type-of-bill groups
        for claim in remittance.claims:
            _write_claim(out, claim)
    _write_provider_adjustments(out, remittance.provider_adjustments)
    return TransactionBody("835", VERSION, out.segments)


def _write_header(out: SegmentWriter, remittance: Remittance) -> None:
    if remittance.payment_date is None:
        raise X12WriteError("the payment date (BPR16) is required", segment_id="BPR", element=16)
    if remittance.payer_identifier is None:
        raise X12WriteError(
            "the payer identifier (TRN03, '1' + the payer's EIN) is required", segment_id="TRN", element=3
        )
    handling = "H" if remittance.payment_method == "NON" else "I"
    if remittance.payment_method in ("ACH", "BOP", "FWT"):
        sender, receiver = remittance.payer_account, remittance.payee_account
        if sender is None or receiver is None:
            raise X12WriteError(
                f"an {remittance.payment_method} payment needs the payer's and the payee's bank accounts "
                "(BPR06-BPR15); set payer_account and payee_account",
                segment_id="BPR",
                element=7,
            )
        out.add(
            "BPR",
            handling,
            remittance.payment_amount,
            remittance.credit_debit,
            remittance.payment_method,
            "CCP",
            "01",
            sender.routing_number,
            "DA",
            sender.account_number,
            remittance.payer_identifier,
            None,
            "01",
            receiver.routing_number,
            "DA",
            receiver.account_number,
            format_date(remittance.payment_date),
        )
    else:
        out.add(
            "BPR",
            handling,
            remittance.payment_amount,
            remittance.credit_debit,
            remittance.payment_method,
            *([None] * 11),
            format_date(remittance.payment_date),
        )
    out.add("TRN", "1", remittance.trace_number, remittance.payer_identifier)
    if remittance.production_date:
        out.add("DTM", "405", format_date(remittance.production_date))
    _write_payer(out, remittance.payer)
    _write_payee(out, remittance.payee)


def _write_payer(out: SegmentWriter, payer: Party) -> None:
    if payer.id_qualifier == "XV":
        out.add("N1", "PR", payer.name, "XV", payer.id)
    else:
        out.add("N1", "PR", payer.name)
    if payer.address is None:
        raise X12WriteError("the payer's address (1000A N3/N4) is required", segment_id="N3", element=1)
    _write_address(out, payer.address)
    if payer.id and payer.id_qualifier in (None, "2U"):
        out.add("REF", "2U", payer.id)
    if not payer.contact_phone:
        raise X12WriteError(
            "the payer's technical contact telephone (1000A PER*BL) is required; set payer.contact_phone",
            segment_id="PER",
            element=4,
        )
    out.add("PER", "BL", payer.contact_name, "TE", payer.contact_phone)


def _write_payee(out: SegmentWriter, payee: Party) -> None:
    if not payee.id:
        raise X12WriteError(
            "the payee's identifier (1000B N104: NPI, or tax id with qualifier FI) is required",
            segment_id="N1",
            element=4,
        )
    out.add("N1", "PE", payee.name, payee.id_qualifier or "XX", payee.id)
    if payee.address is not None:
        _write_address(out, payee.address)


def _write_address(out: SegmentWriter, address: Address) -> None:
    out.add("N3", address.line1, address.line2)
    out.add("N4", address.city, address.state, address.postal_code)


def _write_claim(out: SegmentWriter, claim: ClaimPayment) -> None:
    where = f"claim {claim.patient_control_number}"
    if claim.filing_indicator is None:
        raise X12WriteError(f"{where}: the claim filing indicator (CLP06) is required", segment_id="CLP")
    if claim.filing_indicator not in CLP06_CODES:
        raise X12WriteError(
            f"{where}: {claim.filing_indicator!r} is not an 835 claim filing indicator (CLP06); "
            "map the 837 code with filing_indicator_for_835()",
            segment_id="CLP",
            element=6,
        )
    if claim.payer_claim_number is None:
        raise X12WriteError(f"{where}: the payer claim number (CLP07) is required", segment_id="CLP")
    out.add(
        "CLP",
        claim.patient_control_number,
        claim.status.value,
        claim.charge,
        claim.paid,
        claim.patient_responsibility,
        claim.filing_indicator,
        claim.payer_claim_number,
        claim.facility_type,
        claim.frequency,
        None,
        claim.drg,
    )
    write_adjustments(out, claim.adjustments)
    name_id = ("MI", claim.member_id) if claim.member_id else (None, None)
    out.add("NM1", "QC", "1", claim.patient_last_name, claim.patient_first_name, None, None, None, *name_id)
    if len(claim.remarks) > MOA_REMARKS:
        raise X12WriteError(f"{where}: at most {MOA_REMARKS} claim remark codes fit in MOA", segment_id="MOA")
    if claim.remarks:
        out.add("MOA", None, None, *claim.remarks)
    if claim.service_date:
        out.add("DTM", "232", format_date(claim.service_date))
    if claim.received_date:
        out.add("DTM", "050", format_date(claim.received_date))
    for line in claim.service_lines:
        _write_service(out, line, where)


def _write_service(out: SegmentWriter, line: ServicePayment, where: str) -> None:
    if len(line.modifiers) > SVC_MODIFIERS or len(line.submitted_modifiers) > SVC_MODIFIERS:
        raise X12WriteError(f"{where}: at most {SVC_MODIFIERS} modifiers fit in SVC01", segment_id="SVC")
    submitted = (
        [line.qualifier, line.submitted_procedure_code, *line.submitted_modifiers]
        if line.submitted_procedure_code
        else None
    )
    out.add(
        "SVC",
        [line.qualifier, line.procedure_code, *line.modifiers],
        line.charge,
        line.paid,
        line.revenue_code,
        line.units,
        submitted,
        line.original_units,
    )
    if line.service_date:
        out.add("DTM", "472", format_date(line.service_date))
    write_adjustments(out, line.adjustments)
    if line.line_control_number:
        out.add("REF", "6R", line.line_control_number)
    if line.allowed_amount is not None:
        out.add("AMT", "B6", line.allowed_amount)
    for remark in line.remarks:
        out.add("LQ", "HE", remark)


def write_adjustments(out: SegmentWriter, adjustments: Iterable[Adjustment]) -> None:
    """CAS segments: one group code per segment, at most six reason/amount/quantity triples each."""
    by_group: dict[AdjustmentGroup, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    for group, members in by_group.items():
        if group.value not in CAS_GROUPS_5010:
            raise X12WriteError(
                f"adjustment group {group.value} is 4010 only; 5010 reversals use the original group codes",
                segment_id="CAS",
                element=1,
            )
        for start in range(0, len(members), CAS_TRIPLES):
            triples: list[str | Decimal | None] = []
            for adjustment in members[start : start + CAS_TRIPLES]:
                triples += [adjustment.reason, adjustment.amount, adjustment.quantity]
            out.add("CAS", group.value, *triples)


def _write_provider_adjustments(out: SegmentWriter, adjustments: Sequence[ProviderAdjustment]) -> None:
    """PLB segments: consecutive adjustments of one provider and period share a segment (six pairs)."""
    runs: list[list[ProviderAdjustment]] = []
    for adjustment in adjustments:
        if adjustment.fiscal_period_end is None:
            raise X12WriteError(
                f"provider adjustment {adjustment.reason} needs its fiscal period date (PLB02)",
                segment_id="PLB",
                element=2,
            )
        last = runs[-1] if runs else None
        if (
            last
            and len(last) < PLB_PAIRS
            and (last[0].provider_id, last[0].fiscal_period_end)
            == (adjustment.provider_id, adjustment.fiscal_period_end)
        ):
            last.append(adjustment)
        else:
            runs.append([adjustment])
    for run in runs:
        pairs: list[list[str] | Decimal] = []
        for adjustment in run:
            pairs += [[adjustment.reason, adjustment.reference or ""], adjustment.amount]
        period = run[0].fiscal_period_end
        assert period is not None  # checked above
        out.add("PLB", run[0].provider_id, format_date(period), *pairs)


# --------------------------------------------------------------------------------------------- reading


def read_835(data: str | bytes) -> list[Remittance]:
    """Every 835 transaction set of a file (all interchanges), with balancing findings computed."""
    with cyclic_gc_paused():
        return [read_remittance(ts) for ts in transaction_sets(data, "835")]


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a file is read, and switch it back on (even on errors).

    Reading allocates hundreds of thousands of small acyclic objects that reference counting frees
    on its own; the cycle collector would otherwise run hundreds of times during one read and, in a
    process holding many long-lived objects (a worker, pyx12's maps in the bench), rescan all of
    them: measured at 15 to 45% of the parse time. Only what survives the read is scanned, once."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_remittance(ts: TransactionSet) -> Remittance:
    """One 835 transaction set as a Remittance."""
    return with_findings(_read(ts).finish())


def _read(ts: TransactionSet) -> _RemittanceReader:
    """The reader after taking every segment of a transaction set in, ready to finish()."""
    reader = _RemittanceReader(ts)
    handlers = _HANDLERS
    for segment in ts.segments:
        handler = handlers.get(segment.id)
        if handler is not None:
            handler(reader, segment)
    return reader


M = TypeVar("M", bound=BaseModel)


def _lenient(model: type[M], **values: Any) -> M | None:
    """Contact details real files mangle (masked ZIPs, lowercase states): kept when valid, else None.

    They never decide a payment, so a malformed address must not cost the remittance."""
    try:
        return model(**values)
    except ValidationError:
        return None


def composite(segment: Segment, index: int) -> list[str]:
    """A composite's components, also when the sender used another separator than its ISA16.

    Real files write 'HC>99213' under an ISA16 of ':'; a composite starting with a two-letter
    qualifier followed by punctuation is split on that punctuation."""
    return _components(segment[index], segment.delimiters.component)


def _components(value: str, separator: str) -> list[str]:
    """composite() of an element's value."""
    if not value:
        return []
    parts = value.split(separator)
    if len(parts) == 1 and len(value) > 3 and not value[2].isalnum():
        return value.split(value[2])
    return parts


def _field_pattern(model: type[BaseModel], name: str) -> re.Pattern[str]:
    """The regular expression a model's string field must match (its Field(pattern=...))."""
    patterns = [getattr(item, "pattern", None) for item in model.model_fields[name].metadata]
    found = [pattern for pattern in patterns if isinstance(pattern, str)]
    if len(found) != 1:
        raise TypeError(f"{model.__name__}.{name} should have one pattern, has {found}")
    return re.compile(found[0])


_DIGITS = frozenset("0123456789")
_BLANKS = ("",) * 12
"""Appended to a hot segment's elements so that every element it reads is there ('' when not sent)."""
_GROUPS = {group.value: group for group in AdjustmentGroup}
_STATUSES = {status.value: status for status in ClaimStatusCode}
_CARC = _field_pattern(Adjustment, "reason")


@lru_cache(maxsize=1024)
def _is_carc(reason: str) -> bool:
    """Whether a reason code matches Adjustment.reason's pattern (a file uses a handful of codes)."""
    return _CARC.match(reason) is not None


# What pydantic sets on an instance it validates (BaseModel's slots), set straight through their
# descriptors: object.__setattr__ would look each one up again for every model.
_new = object.__new__
_set_fields = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


class _Blueprint(Generic[M]):
    """Builds a model, without validating, from values the reader has already made exactly what
    validation would make of them: Money quantized to cents, finite Decimals, dates, enum members,
    CARCs that match their pattern, nested models built the same way. The reader validates instead
    whenever a value falls outside that (see _RemittanceReader.regular), so errors stay the same.

    This is model_construct without its per-field alias resolution, which costs more than the
    validation it saves: a template of defaults, the default factories of fields not given, and
    what pydantic sets on a validated instance, fields set included. tests/x12/test_fast_build.py
    proves the result equal to validation's for the corpora."""

    def __init__(self, model: type[M]) -> None:
        decorators = model.__pydantic_decorators__
        if decorators.model_validators or decorators.field_validators or model.__pydantic_post_init__:
            raise TypeError(f"{model.__name__} has validators the reader would skip: build it by validation")
        self.model = model
        self.template: dict[str, Any] = {}
        self.factories: list[tuple[str, Callable[[], Any]]] = []
        for name, info in model.model_fields.items():
            if info.default_factory_takes_validated_data:
                raise TypeError(f"{model.__name__}.{name}'s default needs the other fields: validate instead")
            if info.default_factory is not None:
                self.factories.append((name, info.default_factory))  # type: ignore[arg-type]
            self.template[name] = None if info.is_required() or info.default_factory else info.default

    def build(self, values: dict[str, Any]) -> M:
        """The model of `values`, which hold every required field and no other keys."""
        fields = self.template.copy()
        fields.update(values)
        for name, factory in self.factories:
            if name not in values:
                fields[name] = factory()
        return self._instance(fields, set(values))

    def adopt(self, fields: dict[str, Any]) -> M:
        """build() of values that hold every field in the model's order: they become its fields."""
        return self._instance(fields, set(fields))

    def _instance(self, fields: dict[str, Any], fields_set: set[str]) -> M:
        """What pydantic leaves on an instance it validated, set without validating."""
        instance = _new(self.model)
        _set_fields(instance, fields)
        _set_fields_set(instance, fields_set)
        _set_extra(instance, None)
        _set_private(instance, None)
        return instance


_ADJUSTMENT = _Blueprint(Adjustment)
_LINE = _Blueprint(ServicePayment)
_CLAIM = _Blueprint(ClaimPayment)
_PROVIDER_ADJUSTMENT = _Blueprint(ProviderAdjustment)
_PARTY = _Blueprint(Party)
_REMITTANCE = _Blueprint(Remittance)


class _Draft:
    """A CLP or SVC loop being read: its values, and the segment each nested value came from."""

    __slots__ = ("adjustment_segments", "adjustments", "lines", "remarks", "segment", "values")

    def __init__(self, values: dict[str, Any], segment: Segment) -> None:
        self.values = values
        self.segment = segment
        self.adjustments: list[dict[str, Any]] = []
        self.adjustment_segments: list[Segment] = []
        self.remarks: list[str] = []
        self.lines: list[_Draft] = []

    def claim_values(self) -> dict[str, Any]:
        values = self.line_values()
        values["service_lines"] = [line.line_values() for line in self.lines]
        return values

    def line_values(self) -> dict[str, Any]:
        return {**self.values, "adjustments": self.adjustments, "remarks": self.remarks}

    def built_claim(self) -> ClaimPayment:
        """The claim as validating claim_values() would make it (see _Blueprint)."""
        return _CLAIM.build(
            {
                **self.values,
                "adjustments": [_ADJUSTMENT.adopt(values) for values in self.adjustments],
                "remarks": self.remarks,
                "service_lines": [line.built_line() for line in self.lines],
            }
        )

    def built_line(self) -> ServicePayment:
        return _LINE.build(
            {
                **self.values,
                "adjustments": [_ADJUSTMENT.adopt(values) for values in self.adjustments],
                "remarks": self.remarks,
            }
        )

    def segment_at(self, loc: tuple[int | str, ...]) -> Segment:
        """The segment a validation error's location (below this draft) points at."""
        if len(loc) >= 2 and loc[0] == "adjustments" and isinstance(loc[1], int):
            return self.adjustment_segments[loc[1]]
        if len(loc) >= 2 and loc[0] == "service_lines" and isinstance(loc[1], int):
            return self.lines[loc[1]].segment_at(loc[2:])
        return self.segment


class _RemittanceReader:
    """Reads an 835 segment by segment, tolerating order and unknown segments as real files need."""

    def __init__(self, ts: TransactionSet) -> None:
        self.ts = ts
        self.header: dict[str, Any] = {}
        self.parties: dict[str, dict[str, Any]] = {}
        self.party: dict[str, Any] | None = None
        self.claims: list[_Draft] = []
        self.claim: _Draft | None = None
        self.line: _Draft | None = None
        self.provider_adjustments: list[dict[str, Any]] = []
        self.provider_segments: list[Segment] = []
        self.longest_in_cents = getcontext().prec + 1
        """Longest amount text that holds no more digits than the decimal context: quantizing
        one written with two places (which Money's validator does) would refuse a longer one."""
        self.regular = True
        """Every value read is what validation would make of it; False once one is not (an amount
        that is NaN or too large for cents, a malformed CARC): then finish() validates, and the
        error names the segment as it always has."""

    # Values as the models hold them. Money comes quantized to cents, as Money's validator makes it;
    # the common two-decimal form ('12.34') already is, which spares the quantize.

    def _number(self, s: Segment, offset: int, what: str, required: bool) -> tuple[str, Decimal] | None:
        """The text at 0-based `offset` of a segment's elements and its Decimal; None when not sent
        (an error if `required`), an error when it is not a number."""
        elements = s.elements
        value = elements[offset] if offset < len(elements) else ""
        if not value:
            if required:
                raise X12ValueError(
                    f"{what} is missing", segment_id=s.id, position=s.position, element=offset + 1
                )
            return None
        try:
            if not value.isascii():  # Decimal reads an Arabic-Indic or full-width digit as its value
                raise InvalidOperation
            return value, Decimal(value)
        except InvalidOperation as exc:
            raise X12ValueError(
                f"{what} {value!r} is not a number", segment_id=s.id, position=s.position, element=offset + 1
            ) from exc

    def _money(self, s: Segment, offset: int, what: str, required: bool = False) -> Decimal | None:
        """The Money amount at 0-based `offset` of a segment's elements (an error if `required`).

        The hottest function of the reader: it checks the text's form itself."""
        number = self._number(s, offset, what, required)
        if number is None:
            return None
        value, amount = number
        if (
            2 < len(value) <= self.longest_in_cents
            and value[-3] == "."
            and value[-1] in _DIGITS
            and value[-2] in _DIGITS
        ):
            return amount  # finite, two places, and few enough digits that quantizing changes nothing
        money = as_money(amount)
        if money is None:  # not finite, or too many digits for cents: validation will say so
            self.regular = False
            return amount
        return money

    def _required_money(self, s: Segment, offset: int, what: str) -> Decimal:
        amount = self._money(s, offset, what, True)
        assert amount is not None  # _money raised
        return amount

    def _decimal(self, s: Segment, offset: int, what: str) -> Decimal | None:
        """A quantity (not Money) at 0-based `offset`: validation refuses NaN and infinities."""
        number = self._number(s, offset, what, False)
        if number is None:
            return None
        amount = number[1]
        if not amount.is_finite():
            self.regular = False
        return amount

    def _adjustments(self, segment: Segment) -> list[dict[str, Any]]:
        """A CAS segment's triples (CAS02-04, 05-07 .. 17-19) under its group code, as Adjustment values."""
        elements = segment.elements
        group = _GROUPS.get(elements[0] if elements else "")
        if group is None:
            raise X12ValueError(
                f"adjustment group {segment[1]!r} is not CO, OA, PI, PR (or CR)",
                segment_id="CAS",
                position=segment.position,
                element=1,
            )
        found = []
        count = len(elements)
        for first in range(1, min(count, 19), 3):  # 0-based: CAS02 is elements[1]
            reason = elements[first].strip()
            if not reason:
                continue
            if not _is_carc(reason):
                self.regular = False
            amount = self._money(segment, first + 1, "adjustment amount")
            if amount is None:
                raise X12ValueError(
                    f"adjustment {reason} has no amount",
                    segment_id="CAS",
                    position=segment.position,
                    element=first + 2,
                )
            quantity = self._decimal(segment, first + 2, "adjustment quantity") if first + 2 < count else None
            # every field of an Adjustment, in its order: _Draft.built_* adopt the dict as the model's
            found.append({"group": group, "reason": reason, "amount": amount, "quantity": quantity})
        return found

    # Segment handlers: _on_<id> takes that segment (see _HANDLERS).

    def _on_bpr(self, s: Segment) -> None:
        amount = self._money(s, 1, "payment amount")
        if amount is None:
            raise X12ValueError("payment amount is missing", segment_id="BPR", position=s.position, element=2)
        self.header.update(
            payment_amount=amount,
            credit_debit=s[3] or "C",
            payment_method=s[4] or "NON",
            payment_date=s.date(16, "payment date"),
            payer_account=_lenient(BankAccount, routing_number=s[7], account_number=s[9]) if s[7] else None,
            payee_account=_lenient(BankAccount, routing_number=s[13], account_number=s[15])
            if s[13]
            else None,
        )

    def _on_trn(self, s: Segment) -> None:
        self.header.update(trace_number=s.require(2, "trace number"), payer_identifier=s[3] or None)

    def _on_dtm(self, s: Segment) -> None:
        qualifier = s.elements[0] if s.elements else ""
        line, claim = self.line, self.claim
        if line is not None:
            if (qualifier == "472" or qualifier == "150") and "service_date" not in line.values:
                line.values["service_date"] = s.date(2, "service date")
        elif claim is not None:
            if qualifier == "232":
                claim.values["service_date"] = s.date(2, "statement from date")
            elif qualifier == "050":
                claim.values["received_date"] = s.date(2, "claim received date")
        elif qualifier == "405":
            self.header["production_date"] = s.date(2, "production date")

    def _on_n1(self, s: Segment) -> None:
        if self.claim is not None:
            return
        self.party = {"name": s[2], "id": s[4] or None, "id_qualifier": s[3] or None}
        self.parties[s[1]] = self.party

    def _on_n3(self, s: Segment) -> None:
        if self.party is not None and self.claim is None:
            self.party["_street"] = (s[1], s[2] or None)

    def _on_n4(self, s: Segment) -> None:
        if self.party is not None and self.claim is None:
            line1, line2 = self.party.pop("_street", ("", None))
            self.party["address"] = _lenient(
                Address, line1=line1, line2=line2, city=s[1], state=s[2], postal_code=s[3]
            )

    def _on_per(self, s: Segment) -> None:
        if self.party is None or self.claim is not None or s[1] != "BL":
            return
        self.party["contact_name"] = s[2] or None
        for qualifier_at in (3, 5, 7):
            if s[qualifier_at] == "TE" and s[qualifier_at + 1]:
                self.party["contact_phone"] = s[qualifier_at + 1]
                break

    def _on_ref(self, s: Segment) -> None:
        line = self.line
        if line is not None:
            elements = s.elements
            if elements and elements[0] == "6R":
                line.values["line_control_number"] = elements[1] if len(elements) > 1 else ""
        elif self.claim is None and self.party is not None and s[1] == "2U" and not self.party["id"]:
            self.party.update(id=s[2], id_qualifier="2U")

    def _on_clp(self, s: Segment) -> None:
        self.line = None
        e = s.elements + _BLANKS  # e[i] is CLP(i+1), '' when not sent
        status = _STATUSES.get(e[1])
        if status is None:
            raise X12ValueError(
                f"claim status {s[2]!r} is not a CLP02 code (1-4, 19-23, 25)",
                segment_id="CLP",
                position=s.position,
                element=2,
            )
        values = {
            "patient_control_number": e[0] or s.require(1, "patient control number"),
            "status": status,
            "charge": self._required_money(s, 2, "claim charge"),
            "paid": self._required_money(s, 3, "claim payment"),
            "patient_responsibility": self._money(s, 4, "patient responsibility"),
            "filing_indicator": e[5] or None,
            "payer_claim_number": e[6] or None,
            "facility_type": e[7] or None,
            "frequency": e[8] or None,
            "drg": e[10] or None,
        }
        self.claim = _Draft(values, s)
        self.claims.append(self.claim)

    def _on_cas(self, s: Segment) -> None:
        target = self.line or self.claim
        if target is not None:
            found = self._adjustments(s)
            target.adjustments += found
            target.adjustment_segments += [s] * len(found)

    def _on_nm1(self, s: Segment) -> None:
        if self.claim is not None and self.line is None and s[1] == "QC":
            e = s.elements + _BLANKS
            self.claim.values.update(
                patient_last_name=e[2] or None,
                patient_first_name=e[3] or None,
                member_id=e[8] or None,
            )

    def _on_moa(self, s: Segment) -> None:
        if self.claim is not None:
            self.claim.remarks.extend(code for code in (s[i] for i in range(3, 8)) if code)

    def _on_mia(self, s: Segment) -> None:
        if self.claim is not None:
            self.claim.remarks.extend(code for code in (s[i] for i in (5, 20, 21, 22, 23)) if code)

    def _on_svc(self, s: Segment) -> None:
        if self.claim is None:
            raise X12StructureError(
                "service line (SVC) before any claim (CLP)", segment_id="SVC", position=s.position
            )
        e = s.elements + _BLANKS  # e[i] is SVC(i+1), '' when not sent
        separator = s.delimiters.component
        procedure = _components(e[0], separator)
        if len(procedure) < 2 or not procedure[1]:
            raise X12ValueError(
                "procedure code (SVC01-2) is missing", segment_id="SVC", position=s.position, element=1
            )
        submitted = _components(e[5], separator)
        values: dict[str, Any] = {
            "qualifier": procedure[0],
            "procedure_code": procedure[1],
            "modifiers": list(filter(None, procedure[2:6])),
            "charge": self._required_money(s, 1, "line charge"),
            "paid": self._required_money(s, 2, "line payment"),
            "revenue_code": e[3] or None,
            "units": self._decimal(s, 4, "units paid"),
            "original_units": self._decimal(s, 6, "units billed"),
        }
        if len(submitted) > 1 and submitted[1]:
            values.update(
                submitted_procedure_code=submitted[1], submitted_modifiers=list(filter(None, submitted[2:6]))
            )
        self.line = _Draft(values, s)
        self.claim.lines.append(self.line)

    def _on_amt(self, s: Segment) -> None:
        line = self.line
        if line is not None and s.elements and s.elements[0] == "B6":
            line.values["allowed_amount"] = self._money(s, 1, "allowed amount")

    def _on_lq(self, s: Segment) -> None:
        line = self.line
        if line is not None and s[1] == "HE" and s[2]:
            line.remarks.append(s[2])

    def _on_plb(self, s: Segment) -> None:
        self.claim, self.line, self.party = None, None, None
        period = s.date(2, "fiscal period date")
        for reason_at in range(3, 15, 2):
            if not s[reason_at]:
                continue
            reason = composite(s, reason_at)
            amount = self._required_money(s, reason_at, "provider adjustment amount")
            self.provider_adjustments.append(
                {
                    "provider_id": s[1],
                    "fiscal_period_end": period,
                    "reason": reason[0],
                    "reference": reason[1] if len(reason) > 1 and reason[1] else None,
                    "amount": amount,
                }
            )
            self.provider_segments.append(s)

    def _on_lx(self, s: Segment) -> None:
        self.claim, self.line, self.party = None, None, None

    def finish(self) -> Remittance:
        header = self.ts.header
        for needed, segment_id in (("payment_amount", "BPR"), ("trace_number", "TRN")):
            if needed not in self.header:
                raise X12StructureError(
                    f"the 835 has no {segment_id} segment", segment_id="ST", position=header.position
                )
        for code, loop in (("PR", "1000A payer"), ("PE", "1000B payee")):
            if code not in self.parties:
                raise X12StructureError(
                    f"the 835 has no {loop} (N1*{code})", segment_id="ST", position=header.position
                )
            self.parties[code].pop("_street", None)
        return self._built() if self.regular else self._validated()

    def _built(self) -> Remittance:
        """The remittance built from values the reader has made exactly what validation would."""
        return _REMITTANCE.build(
            {
                **self.header,
                "control_number": self.ts.control_number or None,
                "payer": _PARTY.build(self.parties["PR"]),
                "payee": _PARTY.build(self.parties["PE"]),
                "claims": [claim.built_claim() for claim in self.claims],
                "provider_adjustments": [_PROVIDER_ADJUSTMENT.build(v) for v in self.provider_adjustments],
            }
        )

    def _validated(self) -> Remittance:
        """The remittance validated, for a file holding a value the models refuse: the error names
        the segment the value came from."""
        values = {
            **self.header,
            "control_number": self.ts.control_number or None,
            "payer": self.parties["PR"],
            "payee": self.parties["PE"],
            "claims": [claim.claim_values() for claim in self.claims],
            "provider_adjustments": self.provider_adjustments,
        }
        try:
            # One validation of the whole tree, faster than a model per loop; strict because the
            # reader hands over exact types (Decimal, date, enums), which spares pydantic's coercion.
            return Remittance.model_validate(values, strict=True)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = tuple(error["loc"])
            raise X12ValueError(
                f"{'.'.join(str(part) for part in loc)}: {error['msg']}",
                segment_id=(where := self._segment_at(loc)).id,
                position=where.position,
            ) from exc

    def _segment_at(self, loc: tuple[int | str, ...]) -> Segment:
        if len(loc) >= 2 and loc[0] == "claims" and isinstance(loc[1], int):
            return self.claims[loc[1]].segment_at(loc[2:])
        if len(loc) >= 2 and loc[0] == "provider_adjustments" and isinstance(loc[1], int):
            return self.provider_segments[loc[1]]
        return self.ts.header


_HANDLERS: dict[str, Callable[[_RemittanceReader, Segment], None]] = {
    name[4:].upper(): method for name, method in vars(_RemittanceReader).items() if name.startswith("_on_")
}
"""Segment id -> the reader method that takes it (BPR -> _on_bpr), built once."""
