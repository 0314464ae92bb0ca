"""Who a letter is from: the practice's letterhead and how to reach its billing office."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from claimflow.claims.encounter import Address, Provider


class LetterModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Practice(LetterModel):
    name: str = Field(min_length=1)
    address: Address
    phone: str = Field(min_length=7, description="billing office telephone")
    npi: str | None = Field(default=None, pattern=r"^\d{10}$")
    tax_id: str | None = Field(default=None, pattern=r"^\d{9}$")
    billing_contact: str = Field(default="Billing Office", min_length=1, description="who signs letters")
    payment_url: str | None = Field(default=None, description="online payment page for statements")
    office_hours: str | None = None

    @property
    def tax_id_display(self) -> str | None:
        return f"{self.tax_id[:2]}-{self.tax_id[2:]}" if self.tax_id else None

    @classmethod
    def from_provider(
        cls,
        provider: Provider,
        *,
        phone: str,
        address: Address | None = None,
        payment_url: str | None = None,
        billing_contact: str = "Billing Office",
    ) -> Practice:
        """The letterhead of the claim's billing provider; the 837 carries no phone, so give it."""
        where = address or provider.address
        if where is None:
            raise ValueError(
                f"billing provider {provider.npi} has no address for the letterhead: pass address="
            )
        return cls(
            name=provider.name,
            address=where,
            phone=phone,
            npi=provider.npi,
            tax_id=provider.tax_id,
            payment_url=payment_url,
            billing_contact=billing_contact,
        )
