"""Validity windows and limits: is the redeemable usable right now? (BEHAVIOR.md §12, §13).

Check order (first failure wins; §12, unconfirmed upstream, we follow its list):
active → campaign active → start_date (own, then campaign) → expiration_date
(own, then campaign) → timeframe / day-of-week / daily hours (own, then campaign)
→ quantity (redeemed + reserved by other sessions). Type-specific checks (gift
balance, loyalty holder/reward/points) and validation rules follow in
:mod:`voucherd.engine.evaluate`.

Keys: vouchers use ``voucher_disabled``, ``voucher_not_active``,
``voucher_expired``, ``voucher_not_active_now``, ``quantity_exceeded``. Tiers use
``promotion_inactive`` and ``promotion_not_active_now``; before start / after
expiry a tier reports ``voucher_not_active`` / ``voucher_expired`` (decision: the
only date keys Voucherify documents).
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from voucherd.engine.model import PromotionTier, Validity, Voucher
from voucherd.engine.reasons import (
    PROMOTION_INACTIVE,
    PROMOTION_NOT_ACTIVE_NOW,
    QUANTITY_EXCEEDED,
    VOUCHER_DISABLED,
    VOUCHER_EXPIRED,
    VOUCHER_NOT_ACTIVE,
    VOUCHER_NOT_ACTIVE_NOW,
    Reason,
    reason,
)

_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> timedelta | None:
    """ISO-8601 duration → timedelta; None when unparsable or zero.

    Years and months are approximated as 365 and 30 days (decision; the windows they
    describe in practice are days and hours): ``P1DT2H`` → 26 hours, ``P1M`` → 30 days.
    """
    match = _DURATION.match(text.strip().upper())
    if match is None or text.strip().upper() in {"P", "PT"}:
        return None
    parts = {name: float(value) if value else 0.0 for name, value in match.groupdict().items()}
    delta = timedelta(
        days=parts["years"] * 365 + parts["months"] * 30 + parts["weeks"] * 7 + parts["days"],
        hours=parts["hours"],
        minutes=parts["minutes"],
        seconds=parts["seconds"],
    )
    return delta if delta > timedelta(0) else None


def day_of_week(moment: datetime, tz: tzinfo) -> int:
    """Voucherify day number of ``moment`` in ``tz``: 0 = Sunday … 6 = Saturday."""
    return (moment.astimezone(tz).weekday() + 1) % 7


def _parse_hhmm(text: str) -> time:
    hours, minutes = text.split(":")[:2]
    return time(int(hours), int(minutes))


def in_recurring_windows(
    validity: Validity, now: datetime, tz: tzinfo
) -> tuple[bool, dict[str, Any]]:
    """Whether ``now`` falls inside the timeframe, weekday and daily-hour windows.

    Returns ``(ok, details)``; details name the failing window. Timeframe windows
    last ``duration`` and start every ``interval`` from ``start_date``; daily hours
    are local times in ``tz`` (a period ending before it starts runs past midnight).
    """
    interval = parse_duration(validity.timeframe_interval or "")
    duration = parse_duration(validity.timeframe_duration or "")
    if duration is not None and validity.start_date is not None:
        elapsed = now - validity.start_date
        offset = elapsed % interval if interval is not None else elapsed
        if offset >= duration:
            return False, {
                "check": "validity_timeframe",
                "expected": f"within {validity.timeframe_duration} of every {validity.timeframe_interval} from {validity.start_date.isoformat()}",
                "actual": now.isoformat(),
            }
    weekday = day_of_week(now, tz)
    if validity.day_of_week is not None and weekday not in validity.day_of_week:
        return False, {
            "check": "validity_day_of_week",
            "expected": list(validity.day_of_week),
            "actual": weekday,
        }
    if validity.daily_hours:
        local = now.astimezone(tz)
        clock = local.time().replace(tzinfo=None)
        for period in validity.daily_hours:
            start, end = _parse_hhmm(period.start_time), _parse_hhmm(period.expiration_time)
            if start <= end:
                inside = weekday in period.days_of_week and start <= clock < end
            else:
                yesterday = (weekday - 1) % 7
                inside = (weekday in period.days_of_week and clock >= start) or (
                    yesterday in period.days_of_week and clock < end
                )
            if inside:
                break
        else:
            return False, {
                "check": "validity_hours",
                "expected": [
                    f"{p.start_time}-{p.expiration_time} on {list(p.days_of_week)}"
                    for p in validity.daily_hours
                ],
                "actual": f"{clock.strftime('%H:%M')} on {weekday}",
            }
    return True, {}


def check_validity(definition: Voucher | PromotionTier, now: datetime, tz: tzinfo) -> Reason | None:
    """First failing §12 status check for a voucher or tier, or None when usable now."""
    is_tier = isinstance(definition, PromotionTier)
    campaign = definition.campaign
    if not definition.active:
        if is_tier:
            return reason(
                PROMOTION_INACTIVE,
                "Inactive Promotion",
                check="active",
                expected=True,
                actual=False,
            )
        return reason(
            VOUCHER_DISABLED, "voucher is disabled", check="active", expected=True, actual=False
        )
    if campaign is not None and not campaign.active:
        key, message = (
            (PROMOTION_INACTIVE, "Inactive Promotion")
            if is_tier
            else (VOUCHER_DISABLED, "voucher is disabled")
        )
        return reason(
            key,
            message,
            check="campaign.active",
            campaign_id=campaign.id,
            expected=True,
            actual=False,
        )
    scopes = [("", definition.validity)]
    if campaign is not None:
        scopes.append(("campaign.", campaign.validity))
    for prefix, validity in scopes:
        if validity.start_date is not None and now < validity.start_date:
            return reason(
                VOUCHER_NOT_ACTIVE,
                "voucher not active",
                check=f"{prefix}start_date",
                expected=f">= {validity.start_date.isoformat()}",
                actual=now.isoformat(),
            )
    for prefix, validity in scopes:
        if validity.expiration_date is not None and now > validity.expiration_date:
            return reason(
                VOUCHER_EXPIRED,
                "voucher expired",
                check=f"{prefix}expiration_date",
                expected=f"<= {validity.expiration_date.isoformat()}",
                actual=now.isoformat(),
            )
    for prefix, validity in scopes:
        ok, details = in_recurring_windows(validity, now, tz)
        if not ok:
            details["check"] = f"{prefix}{details['check']}"
            if is_tier:
                return reason(PROMOTION_NOT_ACTIVE_NOW, "promotion not active now", **details)
            return reason(VOUCHER_NOT_ACTIVE_NOW, "voucher not active now", **details)
    if isinstance(definition, Voucher) and definition.quantity is not None:
        used = definition.redeemed_quantity + definition.reserved_quantity
        if used >= definition.quantity:
            return reason(
                QUANTITY_EXCEEDED,
                "quantity exceeded",
                check="quantity",
                expected=f"redeemed_quantity + reserved_quantity < {definition.quantity}",
                actual=used,
                redeemed_quantity=definition.redeemed_quantity,
                reserved_quantity=definition.reserved_quantity,
            )
    return None
