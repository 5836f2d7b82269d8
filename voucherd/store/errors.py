"""Domain errors raised by the store, each carrying its Voucherify error ``key``.

The store knows nothing of HTTP: ``voucherd.api.errors`` alone maps a key to a
status code and renders the envelope (BEHAVIOR.md §3).

    VoucherdError                 key, message, details, resource_id, resource_type
    ├── NotFound                  not_found
    ├── Duplicate                 duplicate_found (and other 409 keys)
    ├── InvalidPayload            invalid_payload (body shape; also query params)
    ├── Unauthorized              unauthorized
    ├── Forbidden                 forbidden / missing_required_permission
    └── BusinessRuleViolation     every other 400 key (voucher_disabled, ...)
"""

from __future__ import annotations

from typing import Any


class VoucherdError(Exception):
    """Base of every error the API turns into Voucherify's envelope."""

    key = "error"
    message = "Error"

    def __init__(
        self,
        details: str | None = None,
        *,
        key: str | None = None,
        message: str | None = None,
        resource_id: str | None = None,
        resource_type: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if key is not None:
            self.key = key
        if message is not None:
            self.message = message
        self.details = details
        self.resource_id = resource_id
        self.resource_type = resource_type
        # Extra top-level envelope fields (e.g. redeemable_id, error: {message}).
        self.extra = extra or {}
        super().__init__(details or self.message)


class NotFound(VoucherdError):
    """The identified object does not exist in this project."""

    key = "not_found"
    message = "Resource not found"

    def __init__(self, resource_type: str, resource_id: str, details: str | None = None) -> None:
        super().__init__(
            details or f"Cannot find {resource_type} with id {resource_id}",
            resource_id=resource_id,
            resource_type=resource_type,
        )


class Duplicate(VoucherdError):
    """An object with the same unique identifier exists already."""

    key = "duplicate_found"
    message = "Duplicated resource found"

    def __init__(self, resource_type: str, resource_id: str, details: str | None = None) -> None:
        super().__init__(
            details or f"Duplicated {resource_type} exists with id {resource_id}",
            resource_id=resource_id,
            resource_type=resource_type,
        )


class InvalidPayload(VoucherdError):
    """The request body (or query) does not match the schema."""

    key = "invalid_payload"
    message = "Invalid payload"


class InvalidQueryParams(VoucherdError):
    """Listing parameters out of range or malformed."""

    key = "invalid_query_params"
    message = "Invalid query params"


class Unauthorized(VoucherdError):
    """Missing or wrong credentials."""

    key = "unauthorized"
    message = "Unauthorized"


class Forbidden(VoucherdError):
    """Credentials are fine but not for this operation (e.g. a disallowed origin)."""

    key = "forbidden"
    message = "Forbidden"


class BusinessRuleViolation(VoucherdError):
    """A 400 whose key names the rule (voucher_disabled, already_rolled_back, ...)."""

    key = "invalid_request"
    message = "Invalid request"

    def __init__(self, key: str, message: str, details: str | None = None, **kwargs: Any) -> None:
        super().__init__(details, key=key, message=message, **kwargs)
