"""Request bodies of /v1/rewards (OpenAPI schema names, BEHAVIOR.md §9)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_serializer

from voucherd.store.errors import InvalidPayload

RewardTypeName = Literal["CAMPAIGN", "COIN", "MATERIAL"]


class RewardsCreateRequestBodyParametersCampaign(BaseModel):
    """A digital reward: credits, points or a code from another campaign."""

    id: str
    balance: int | None = Field(default=None, ge=0)


class RewardsCreateRequestBodyParametersProduct(BaseModel):
    """A material reward: a product, optionally one SKU of it."""

    id: str
    sku_id: str | None = None


class RewardsCreateRequestBodyParametersCoin(BaseModel):
    """Pay with points: ``points_ratio`` points are worth ``exchange_ratio`` currency units.

    The SDK sends ``points_ratio`` as a string; numeric strings are accepted.
    """

    exchange_ratio: float = Field(gt=0)
    points_ratio: int = Field(gt=0)

    @field_serializer("exchange_ratio")
    def _whole_numbers_as_int(self, value: float) -> float | int:
        # Keep 900 as 900 (not 900.0) on the wire, as it was most likely sent.
        return int(value) if value.is_integer() else value


class RewardsCreateRequestBodyParameters(BaseModel):
    """Exactly one of the three shapes, matching the reward type."""

    campaign: RewardsCreateRequestBodyParametersCampaign | None = None
    product: RewardsCreateRequestBodyParametersProduct | None = None
    coin: RewardsCreateRequestBodyParametersCoin | None = None


class RewardsCreateRequestBodyAttributes(BaseModel):
    """Display attributes of a reward."""

    image_url: str | None = None
    description: str | None = None


_PARAMETER_OF_TYPE: dict[str, str] = {"CAMPAIGN": "campaign", "COIN": "coin", "MATERIAL": "product"}


class RewardsCreateRequestBody(BaseModel):
    """``type`` is not in the SDK's model, so it is usually inferred from ``parameters``."""

    name: str | None = None
    type: RewardTypeName | None = None
    parameters: RewardsCreateRequestBodyParameters | None = None
    metadata: dict[str, Any] | None = None
    stock: int | None = Field(default=None, ge=0)
    attributes: RewardsCreateRequestBodyAttributes | None = None

    def reward_type(self) -> str:
        """The reward type: as sent, or from the one parameters object given.

        Raises InvalidPayload when no parameters fit, or more than one is given.
        """
        given = (
            []
            if self.parameters is None
            else [
                reward_type
                for reward_type, key in _PARAMETER_OF_TYPE.items()
                if getattr(self.parameters, key) is not None
            ]
        )
        if self.type is not None:
            key = _PARAMETER_OF_TYPE[self.type]
            if self.type not in given:
                raise InvalidPayload(
                    f"Property .parameters should have required property '{key}' "
                    f"for a {self.type} reward"
                )
            if len(given) > 1:
                raise InvalidPayload(f"Property .parameters may only contain '{key}'")
            return self.type
        if not given:
            raise InvalidPayload(
                "Property .parameters should have one of 'campaign', 'coin' or 'product'"
            )
        if len(given) > 1:
            raise InvalidPayload(
                "Property .parameters should have only one of 'campaign', 'coin' or 'product'"
            )
        return given[0]

    def fields(self) -> dict[str, Any]:
        """The stored fields: everything sent except ``type``, nulls left out."""
        dumped = self.model_dump(exclude_none=True, exclude={"type"})
        return {key: value for key, value in dumped.items() if key in self.model_fields_set}


class RewardsUpdateRequestBody(BaseModel):
    """PUT: the given top-level fields replace the stored ones; the type stays."""

    name: str | None = None
    parameters: RewardsCreateRequestBodyParameters | None = None
    metadata: dict[str, Any] | None = None
    stock: int | None = Field(default=None, ge=0)
    attributes: RewardsCreateRequestBodyAttributes | None = None

    def fields(self) -> dict[str, Any]:
        """The fields the client sent, nulls left out."""
        dumped = self.model_dump(exclude_none=True)
        return {key: value for key, value in dumped.items() if key in self.model_fields_set}


class RewardsAssignmentsCreateRequestBodyParametersLoyalty(BaseModel):
    """The price of the reward in points."""

    points: int | None = Field(default=None, ge=1)
    auto_redeem: bool | None = None


class RewardsAssignmentsCreateRequestBodyParameters(BaseModel):
    """Assignment parameters."""

    loyalty: RewardsAssignmentsCreateRequestBodyParametersLoyalty | None = None


class RewardsAssignmentsCreateRequestBody(BaseModel):
    """Assign a reward to a loyalty campaign."""

    campaign: str
    parameters: RewardsAssignmentsCreateRequestBodyParameters | None = None
    validation_rules: list[str] | None = None


class RewardsAssignmentsUpdateRequestBody(BaseModel):
    """PUT: a new price in points and/or ``auto_redeem``."""

    parameters: RewardsAssignmentsCreateRequestBodyParameters | None = None
