"""Vouchers: discount codes, gift cards and loyalty cards (BEHAVIOR.md §1.4, §8, §9, §12).

Counters live in real columns (``quantity``, ``redeemed_quantity``, ``gift_amount``,
``gift_subtracted_amount``, ``redeemed_amount``, ``loyalty_points``,
``loyalty_subtracted_points``, ``redeemed_points``) that the redemption pipeline
moves with guarded UPDATEs; the ``data`` document holds only what nobody counts
(discount definition, validity windows, metadata, ...). :func:`render_voucher`
joins the two into the wire object.

Codes are unique per project among live vouchers (a partial unique index); a
deleted voucher frees its code at once. Generated codes are inserted with
``ON CONFLICT DO NOTHING`` and only the colliding ones are drawn again
(:func:`insert_generated`).

For the redemption pipeline: :func:`get_voucher` / :func:`find_voucher` (rows,
optionally locked), :func:`render_voucher` / :func:`voucher_json` (wire dicts).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import psycopg
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    String,
    cast,
    or_,
    select,
    text,
    update,
)

from voucherd.store import catalog, ids, sessions, types
from voucherd.store.codes import CodeConfig
from voucherd.store.errors import BusinessRuleViolation, Duplicate, NotFound
from voucherd.store.listing import (
    ListQuery,
    date_range_clause,
    filter_clause,
    nothing,
    ordering,
    page,
)
from voucherd.store.schema import campaigns, categories, customers, vouchers
from voucherd.store.wire import iso

DISCOUNT_VOUCHER = "DISCOUNT_VOUCHER"
GIFT_VOUCHER = "GIFT_VOUCHER"
LOYALTY_CARD = "LOYALTY_CARD"

# Rows per INSERT round trip when generating codes.
BATCH_SIZE = 10_000
# Rounds in a row that may insert nothing before we call the code space exhausted.
MAX_FRUITLESS_ROUNDS = 20
# Above this many rows PostgreSQL inserts go through COPY (see _copy_rows).
COPY_THRESHOLD = 100
# Upper bound on candidates drawn per wanted code once collisions appear.
MAX_OVERSAMPLE = 64

LIVE = vouchers.c.deleted_at.is_(None)


def _invalid_voucher(details: str) -> BusinessRuleViolation:
    return BusinessRuleViolation("invalid_voucher", "Invalid voucher", details)


# --- reading ------------------------------------------------------------------------


def find_voucher(
    conn: Connection, project_id: str, code_or_id: str, *, for_update: bool = False
) -> Row[Any] | None:
    """The live voucher row with this code (or, failing that, this ``v_`` id), or None.

    ``for_update`` locks the row on PostgreSQL (SQLite's write transaction already
    holds the database lock). Two single-index lookups rather than one ``OR``, so
    both hit an index on either database.
    """
    for column in (vouchers.c.code, vouchers.c.id):
        query = select(vouchers).where(
            vouchers.c.project_id == project_id, LIVE, column == code_or_id
        )
        if for_update:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is not None:
            return row
    return None


def get_voucher(
    conn: Connection, project_id: str, code_or_id: str, *, for_update: bool = False
) -> Row[Any]:
    """Like :func:`find_voucher`; raises ``NotFound("voucher", code_or_id)``."""
    row = find_voucher(conn, project_id, code_or_id, for_update=for_update)
    if row is None:
        raise NotFound("voucher", code_or_id)
    return row


def expired_points(row: Row[Any]) -> int:
    """Loyalty points marked expired (kept in ``data``; no expiry job moves them yet)."""
    return int(((row.data or {}).get("loyalty_card") or {}).get("expired_points") or 0)


def gift_balance(row: Row[Any]) -> int:
    """Spendable gift credits: amount − subtracted_amount − redeemed_amount (§8)."""
    return int(row.gift_amount or 0) - int(row.gift_subtracted_amount) - int(row.redeemed_amount)


def loyalty_balance(row: Row[Any]) -> int:
    """Spendable points: points − expired − subtracted − redeemed_points (§9)."""
    return (
        int(row.loyalty_points or 0)
        - expired_points(row)
        - int(row.loyalty_subtracted_points)
        - int(row.redeemed_points)
    )


def render_voucher(
    row: Row[Any],
    categories_by_id: dict[str, dict[str, Any]] | None = None,
    assignments: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The wire ``voucher`` object for a row.

    Gift ``balance`` = amount − subtracted_amount − redeemed_amount; loyalty
    ``balance`` = points − expired − subtracted − redeemed_points (§8, §9).
    ``categories_by_id`` comes from :func:`voucherd.store.catalog.load_categories`.
    """
    data: dict[str, Any] = row.data
    gift = None
    if row.type == GIFT_VOUCHER:
        amount = int(row.gift_amount or 0)
        gift = {
            "amount": amount,
            "subtracted_amount": int(row.gift_subtracted_amount),
            "balance": gift_balance(row),
            "effect": data.get("gift_effect") or "APPLY_TO_ORDER",
        }
    loyalty_card = None
    if row.type == LOYALTY_CARD:
        points = int(row.loyalty_points or 0)
        extra = data.get("loyalty_card") or {}
        expired = expired_points(row)
        loyalty_card = {
            "points": points,
            "balance": loyalty_balance(row),
            "next_expiration_date": extra.get("next_expiration_date"),
            "next_expiration_points": extra.get("next_expiration_points"),
            "pending_points": int(extra.get("pending_points") or 0),
            "expired_points": expired,
            "subtracted_points": int(row.loyalty_subtracted_points),
        }
    category = (categories_by_id or {}).get(row.category_id) if row.category_id else None
    path_code = quote(row.code, safe="")
    out: dict[str, Any] = {
        "id": row.id,
        "code": row.code,
        "campaign": data.get("campaign"),
        "campaign_id": row.campaign_id,
        "category": data.get("category"),
        "category_id": row.category_id,
        "categories": [category] if category else [],
        "type": row.type,
        "discount": data.get("discount") if row.type == DISCOUNT_VOUCHER else None,
        "gift": gift,
        "loyalty_card": loyalty_card,
        "start_date": iso(row.start_date),
        "expiration_date": iso(row.expiration_date),
        "validity_timeframe": data.get("validity_timeframe"),
        "validity_day_of_week": data.get("validity_day_of_week"),
        "validity_hours": data.get("validity_hours"),
        "active": bool(row.active),
        "additional_info": data.get("additional_info"),
        "metadata": data.get("metadata") or {},
        "assets": {
            "qr": {"id": f"qr_{row.id}", "url": f"/v1/vouchers/{path_code}/qr"},
            "barcode": {"id": f"barcode_{row.id}", "url": f"/v1/vouchers/{path_code}/barcode"},
        },
        "is_referral_code": bool(data.get("is_referral_code", False)),
        "holder_id": row.holder_id,
        "referrer_id": data.get("referrer_id"),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "redemption": {
            "quantity": row.quantity,
            "redeemed_quantity": int(row.redeemed_quantity),
            "redeemed_amount": int(row.redeemed_amount),
            "redeemed_points": int(row.redeemed_points),
            "object": "list",
            "url": f"/v1/vouchers/{path_code}/redemptions?page=1&limit=10",
        },
        "publish": {
            "object": "list",
            "count": int(data.get("publish_count") or 0),
            "url": f"/v1/vouchers/{path_code}/publications?page=1&limit=10",
        },
        "object": "voucher",
    }
    if assignments is not None:
        out["validation_rules_assignments"] = assignments
    return out


def voucher_json(
    conn: Connection, project_id: str, row: Row[Any], *, with_assignments: bool = True
) -> dict[str, Any]:
    """Render one voucher with its category and (optionally) its and its campaign's rule assignments."""
    cats = catalog.load_categories(conn, project_id, [row.category_id])
    assignments = None
    if with_assignments:
        # A voucher inherits its campaign's rules (BEHAVIOR.md §11.2): list both.
        related = [row.id] if row.campaign_id is None else [row.id, row.campaign_id]
        assignments = catalog.assignments_list(conn, project_id, related)
    return render_voucher(row, cats, assignments)


# --- building rows ------------------------------------------------------------------


def voucher_spec(
    conn: Connection,
    project_id: str,
    body: dict[str, Any],
    *,
    base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Normalise a voucher body (or a campaign template) into the values rows are built from.

    ``base`` holds defaults (a campaign's template spec) the body overrides.
    """
    spec: dict[str, Any] = dict(base or {})
    spec.setdefault("type", DISCOUNT_VOUCHER)
    if body.get("type") is not None:
        spec["type"] = body["type"]
    if body.get("discount") is not None:
        spec["discount"] = body["discount"]
    if body.get("gift") is not None:
        gift = body["gift"]
        spec["gift_amount"] = round(gift.get("amount") or 0)
        spec["gift_effect"] = gift.get("effect") or spec.get("gift_effect") or "APPLY_TO_ORDER"
    if body.get("loyalty_card") is not None:
        spec["loyalty_points"] = int(body["loyalty_card"].get("points") or 0)
    redemption = body.get("redemption")
    if redemption is not None and "quantity" in redemption:
        spec["quantity"] = redemption.get("quantity")
    for field in ("start_date", "expiration_date"):
        if body.get(field) is not None:
            spec[field] = catalog.parse_date(body[field], field)
    for field in (*catalog.VALIDITY_FIELDS, "additional_info", "is_referral_code"):
        if body.get(field) is not None:
            spec[field] = body[field]
    if body.get("metadata") is not None:
        spec["metadata"] = body["metadata"]
    if body.get("active") is not None:
        spec["active"] = bool(body["active"])
    if body.get("category_id") is not None or body.get("category") is not None:
        spec["category_id"], spec["category"] = catalog.resolve_category(
            conn, project_id, body.get("category_id"), body.get("category")
        )
    return spec


def build_row(
    project_id: str,
    code: str,
    spec: dict[str, Any],
    now: dt.datetime,
    *,
    campaign_id: str | None = None,
    campaign_name: str | None = None,
    voucher_id: str | None = None,
) -> dict[str, Any]:
    """The ``vouchers`` row for one code (counters start at their column defaults)."""
    kind = spec["type"]
    data: dict[str, Any] = {
        "campaign": campaign_name,
        "category": spec.get("category"),
        "discount": spec.get("discount") if kind == DISCOUNT_VOUCHER else None,
        "additional_info": spec.get("additional_info"),
        "metadata": spec.get("metadata") or {},
        "is_referral_code": bool(spec.get("is_referral_code", False)),
    }
    for field in catalog.VALIDITY_FIELDS:
        data[field] = spec.get(field)
    if kind == GIFT_VOUCHER:
        data["gift_effect"] = spec.get("gift_effect") or "APPLY_TO_ORDER"
    return {
        "id": voucher_id or ids.new_id("v"),
        "project_id": project_id,
        "code": code,
        "campaign_id": campaign_id,
        "type": kind,
        "active": spec.get("active", True),
        "category_id": spec.get("category_id"),
        "holder_id": None,
        "start_date": spec.get("start_date"),
        "expiration_date": spec.get("expiration_date"),
        "quantity": spec.get("quantity"),
        "gift_amount": spec.get("gift_amount", 0) if kind == GIFT_VOUCHER else None,
        "loyalty_points": spec.get("loyalty_points", 0) if kind == LOYALTY_CARD else None,
        "data": data,
        "created_at": now,
        "updated_at": None,
    }


def lock_codes(conn: Connection, project_id: str) -> None:
    """Serialise voucher inserts of one project until the transaction ends (PostgreSQL).

    Two transactions inserting overlapping codes in opposite orders would each
    wait on the other's uncommitted index entry: a deadlock (observed with
    concurrent campaign generation). One transaction-scoped advisory lock per
    project orders them instead. SQLite's write transactions are serial already.
    """
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(f"voucher-codes:{project_id}".encode())
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _insert_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert rows, skipping live-code conflicts; returns the ids that went in."""
    lock_codes(conn, rows[0]["project_id"])
    if len(rows) > COPY_THRESHOLD:
        if conn.dialect.name == "postgresql":
            return _copy_rows(conn, rows)
        return _executemany_rows(conn, rows)
    statement = catalog.insert_ignoring_duplicates(
        conn, vouchers, ["project_id", "code"], vouchers.c.deleted_at.is_(None)
    ).returning(vouchers.c.id)
    return set(conn.execute(statement, list(rows)).scalars())


def _executemany_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """SQLite bulk path: the driver's ``executemany`` with ``ON CONFLICT DO NOTHING``.

    Values go through each column type's own bind processor (so timestamps and JSON
    are stored exactly as SQLAlchemy stores them) but skip the per-row statement
    machinery. ``rowcount`` sums the rows inserted; only when it falls short do we
    look up which ids landed.
    """
    columns = list(rows[0])
    processors = [
        vouchers.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        for name in columns
    ]
    # Generated rows share one data document and one timestamp: process each once.
    cache: dict[tuple[int, int], Any] = {}

    def bind(index: int, value: Any) -> Any:
        proc = processors[index]
        if proc is None or value is None:
            return value
        if isinstance(value, dict | dt.datetime):
            key = (index, id(value))
            if key not in cache:
                cache[key] = proc(value)
            return cache[key]
        return proc(value)

    params = [tuple(bind(i, row[c]) for i, c in enumerate(columns)) for row in rows]
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    driver: Any = conn.connection.driver_connection
    cursor = driver.cursor()
    try:
        cursor.executemany(
            # Column names come from build_row, never from a request.
            f"INSERT INTO vouchers ({names}) VALUES ({marks}) "  # noqa: S608
            "ON CONFLICT (project_id, code) WHERE deleted_at IS NULL DO NOTHING",
            params,
        )
        inserted = cursor.rowcount
    finally:
        cursor.close()
    wanted = [row["id"] for row in rows]
    if inserted == len(rows):
        return set(wanted)
    landed: set[str] = set()
    for start in range(0, len(wanted), 1_000):
        chunk = wanted[start : start + 1_000]
        landed.update(conn.execute(select(vouchers.c.id).where(vouchers.c.id.in_(chunk))).scalars())
    return landed


def _copy_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """PostgreSQL bulk path: COPY, straight into ``vouchers`` when no code collides.

    A multi-row ``VALUES`` statement with thousands of parameters is too long for
    psycopg's query cache, so every batch would be re-parsed on the client; COPY
    streams the rows instead. Fresh random codes almost never collide, so the rows
    are first copied straight into the table inside a savepoint; on a unique
    violation the savepoint is rolled back and the batch goes through a temporary
    stage and ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, which skips the
    colliding codes.
    """
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    try:
        with conn.begin_nested():
            _copy_into(conn, "vouchers", names, columns, rows)
        return {row["id"] for row in rows}
    except psycopg.errors.UniqueViolation:
        pass  # some code is taken: fall back to the path that skips duplicates
    conn.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS voucher_stage "
        "(LIKE vouchers INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    conn.exec_driver_sql("TRUNCATE voucher_stage")
    _copy_into(conn, "voucher_stage", names, columns, rows)
    result = conn.exec_driver_sql(
        # Column names come from build_row, never from a request.
        f"INSERT INTO vouchers ({names}) SELECT {names} FROM voucher_stage "  # noqa: S608
        "ON CONFLICT (project_id, code) WHERE deleted_at IS NULL DO NOTHING RETURNING id"
    )
    return set(result.scalars())


def _copy_into(
    conn: Connection, table: str, names: str, columns: list[str], rows: Sequence[dict[str, Any]]
) -> None:
    """COPY ``rows`` into ``table``; a ``data`` document shared by rows is serialised once."""
    serialised: dict[int, str] = {}
    driver: Any = conn.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            values = []
            for column in columns:
                value = row[column]
                if column == "data":
                    key = id(value)
                    if key not in serialised:
                        serialised[key] = types.dumps(value)
                    value = serialised[key]
                values.append(value)
            copy.write_row(values)


def insert_generated(
    conn: Connection,
    project_id: str,
    count: int,
    config: CodeConfig,
    make_row: Callable[[str, str], dict[str, Any]],
) -> list[str]:
    """Insert ``count`` vouchers with fresh codes from ``config``; returns their ids.

    Candidates go in batches with ``ON CONFLICT DO NOTHING``; only candidates that
    collided with an existing live code (or one a concurrent transaction just
    inserted) are replaced and retried, so a project never holds a code twice.
    Once collisions show up the draw is oversampled and pre-filtered against the
    codes already taken, so a nearly full code space still fills up quickly. A
    config whose code space is used up fails with 400 ``invalid_code_config``.
    """
    inserted: list[str] = []
    oversample = 1
    fruitless = 0
    while len(inserted) < count:
        want = min(BATCH_SIZE, count - len(inserted))
        draw = min(config.capacity, want * oversample)
        candidates = config.generate(draw)
        if oversample > 1:
            candidates = _untaken(conn, project_id, candidates)
            if not candidates and draw == config.capacity:
                raise _exhausted()
        chosen = candidates[:want]
        rows = [
            make_row(code, voucher_id)
            for code, voucher_id in zip(chosen, ids.new_ids("v", len(chosen)), strict=True)
        ]
        landed = _insert_rows(conn, rows) if rows else set()
        inserted.extend(row["id"] for row in rows if row["id"] in landed)
        if len(landed) < want:
            # Collisions: the space is filling up; look before we leap next time.
            oversample = min(oversample * 4, MAX_OVERSAMPLE)
        fruitless = 0 if landed else fruitless + 1
        if fruitless >= MAX_FRUITLESS_ROUNDS:
            raise _exhausted()
    return inserted


def _exhausted() -> BusinessRuleViolation:
    return BusinessRuleViolation(
        "invalid_code_config", "Invalid code config", "No unused codes left for this code_config"
    )


def _untaken(conn: Connection, project_id: str, candidates: list[str]) -> list[str]:
    """The candidates no live voucher of the project uses yet."""
    taken: set[str] = set()
    for start in range(0, len(candidates), 1_000):
        chunk = candidates[start : start + 1_000]
        taken.update(
            conn.execute(
                select(vouchers.c.code).where(
                    vouchers.c.project_id == project_id, LIVE, vouchers.c.code.in_(chunk)
                )
            ).scalars()
        )
    return [code for code in candidates if code not in taken]


def insert_with_code(conn: Connection, row: dict[str, Any]) -> None:
    """Insert one voucher with a chosen code; 409 ``duplicate_found`` if the code is live."""
    if not _insert_rows(conn, [row]):
        raise Duplicate("voucher", row["code"])


# --- writing ------------------------------------------------------------------------


def _campaign_for(conn: Connection, project_id: str, body: dict[str, Any]) -> Row[Any] | None:
    ref = body.get("campaign_id") or body.get("campaign")
    if ref is None:
        return None
    row = conn.execute(
        select(campaigns).where(
            campaigns.c.project_id == project_id,
            campaigns.c.deleted_at.is_(None),
            or_(campaigns.c.id == ref, campaigns.c.name == ref),
        )
    ).first()
    if row is None:
        raise NotFound("campaign", ref)
    return row


def create_voucher(
    conn: Connection,
    project_id: str,
    body: dict[str, Any],
    *,
    now: dt.datetime,
    code: str | None = None,
) -> Row[Any]:
    """Create a voucher (``POST /v1/vouchers[/{code}]``) and return its row.

    The code is ``code``, else ``body["code"]``, else generated from
    ``body["code_config"]`` (or the campaign's). With ``campaign``/``campaign_id``
    the voucher starts from the campaign's template. A LOYALTY_CARD needs a
    campaign: otherwise 400 ``invalid_voucher`` (BEHAVIOR.md §9).
    """
    campaign = _campaign_for(conn, project_id, body)
    base = None
    config = CodeConfig.from_dict(body.get("code_config"))
    if campaign is not None:
        if campaign.campaign_type == "PROMOTION":
            raise _invalid_voucher("A PROMOTION campaign has tiers, not vouchers")
        template = campaign.data.get("template") or {}
        wanted = body.get("type")
        if wanted is not None and wanted != template.get("type", DISCOUNT_VOUCHER):
            raise _invalid_voucher(
                f"Campaign {campaign.name} holds {template.get('type')} vouchers, not {wanted}"
            )
        base = template_spec(template, campaign)
        if body.get("code_config") is None:
            config = CodeConfig.from_dict(template.get("code_config"))
    spec = voucher_spec(conn, project_id, body, base=base)
    if spec["type"] == LOYALTY_CARD and campaign is None:
        raise _invalid_voucher("For a loyalty card, a campaign name or ID is required")

    def make_row(new_code: str, voucher_id: str | None = None) -> dict[str, Any]:
        return build_row(
            project_id,
            new_code,
            spec,
            now,
            campaign_id=campaign.id if campaign is not None else None,
            campaign_name=campaign.name if campaign is not None else None,
            voucher_id=voucher_id,
        )

    chosen = code if code is not None else body.get("code")
    if chosen is not None:
        row = make_row(chosen)
        insert_with_code(conn, row)
        voucher_id = row["id"]
    else:
        (voucher_id,) = insert_generated(conn, project_id, 1, config, make_row)
    catalog.assign_rules(conn, project_id, body.get("validation_rules"), "voucher", voucher_id, now)
    return get_voucher(conn, project_id, voucher_id)


def template_spec(template: dict[str, Any], campaign: Row[Any]) -> dict[str, Any]:
    """A campaign's stored voucher template as a voucher spec (dates parsed, campaign windows)."""
    spec = {k: v for k, v in template.items() if k != "code_config"}
    for field in ("start_date", "expiration_date"):
        spec[field] = getattr(campaign, field)
    spec["category_id"] = campaign.category_id
    spec["category"] = campaign.data.get("category")
    for field in catalog.VALIDITY_FIELDS:
        spec[field] = campaign.data.get(field)
    spec["is_referral_code"] = campaign.campaign_type == "REFERRAL_PROGRAM"
    spec.pop("metadata", None)
    return spec


def update_voucher(
    conn: Connection, project_id: str, code_or_id: str, body: dict[str, Any], *, now: dt.datetime
) -> Row[Any]:
    """Partial update (``PUT /v1/vouchers/{code}``): only the fields present change.

    ``metadata`` replaces the stored object; counters are never touched except the
    redemption limit ``redemption.quantity``.
    """
    row = get_voucher(conn, project_id, code_or_id, for_update=True)
    data = dict(row.data)
    values: dict[str, Any] = {"updated_at": now}
    for field in ("start_date", "expiration_date"):
        if body.get(field) is not None:
            values[field] = catalog.parse_date(body[field], field)
    for field in (*catalog.VALIDITY_FIELDS, "additional_info", "metadata"):
        if body.get(field) is not None:
            data[field] = body[field]
    if body.get("active") is not None:
        values["active"] = bool(body["active"])
    if body.get("discount") is not None:
        if row.type != DISCOUNT_VOUCHER:
            raise _invalid_voucher(f"A {row.type} has no discount")
        data["discount"] = body["discount"]
    gift = body.get("gift")
    if gift is not None and row.type == GIFT_VOUCHER and gift.get("effect") is not None:
        data["gift_effect"] = gift["effect"]
    redemption = body.get("redemption")
    if redemption is not None and "quantity" in redemption:
        values["quantity"] = redemption["quantity"]
    if body.get("category_id") is not None or body.get("category") is not None:
        values["category_id"], data["category"] = catalog.resolve_category(
            conn, project_id, body.get("category_id"), body.get("category")
        )
    values["data"] = data
    conn.execute(
        update(vouchers)
        .where(vouchers.c.project_id == project_id, vouchers.c.id == row.id)
        .values(**values)
    )
    return get_voucher(conn, project_id, row.id)


def set_active(
    conn: Connection, project_id: str, code_or_id: str, active: bool, *, now: dt.datetime
) -> Row[Any]:
    """Enable or disable a voucher."""
    row = get_voucher(conn, project_id, code_or_id)
    conn.execute(
        update(vouchers)
        .where(vouchers.c.project_id == project_id, vouchers.c.id == row.id)
        .values(active=active, updated_at=now)
    )
    return get_voucher(conn, project_id, row.id)


def delete_voucher(conn: Connection, project_id: str, code_or_id: str, *, now: dt.datetime) -> None:
    """Soft-delete a voucher: from now on it is 404, unlisted, and its code is free.

    The row stays (``deleted_at`` set) so redemption history keeps its reference.
    """
    row = get_voucher(conn, project_id, code_or_id)
    conn.execute(
        update(vouchers)
        .where(vouchers.c.project_id == project_id, vouchers.c.id == row.id)
        .values(deleted_at=now)
    )
    catalog.delete_assignments(conn, project_id, [row.id])


def release_session(
    conn: Connection, project_id: str, code_or_id: str, key: str, *, now: dt.datetime
) -> None:
    """Free what a LOCK session holds on a voucher (BEHAVIOR.md §13).

    Unknown voucher → ``NotFound("voucher")``; no live reservation of ``key`` on it
    (never made, consumed, released or expired) → ``NotFound("session", key)``.
    """
    row = get_voucher(conn, project_id, code_or_id)
    sessions.release(conn, project_id, key, row.id, now)


# --- listing ------------------------------------------------------------------------

FIELDS: dict[str, ColumnElement[Any]] = {
    "id": vouchers.c.id,
    "code": vouchers.c.code,
    "campaign_id": vouchers.c.campaign_id,
    "category_id": vouchers.c.category_id,
    "type": vouchers.c.type,
    "active": vouchers.c.active,
    "holder_id": vouchers.c.holder_id,
    "start_date": vouchers.c.start_date,
    "expiration_date": vouchers.c.expiration_date,
    "created_at": vouchers.c.created_at,
    "updated_at": vouchers.c.updated_at,
    "quantity": vouchers.c.quantity,
    "redemption.quantity": vouchers.c.quantity,
    "redemption.redeemed_quantity": vouchers.c.redeemed_quantity,
}

ORDERS: dict[str, ColumnElement[Any]] = {
    "created_at": vouchers.c.created_at,
    "updated_at": vouchers.c.updated_at,
    "code": vouchers.c.code,
}


def metadata_field(column: Any, name: str) -> ColumnElement[Any] | None:
    """``metadata.<key>`` as text, for ``filters`` on JSON documents (None for other names)."""
    if not name.startswith("metadata."):
        return None
    key = name.split(".", 1)[1]
    # CAST keeps SQLite's json_extract numbers comparable with query-string text.
    return cast(column["metadata"][key].as_string(), String)


def _shortcuts(project_id: str, query: ListQuery) -> list[ColumnElement[bool]]:
    parts: list[ColumnElement[bool]] = []
    name = query.param("campaign")
    if name is not None:
        parts.append(
            vouchers.c.campaign_id.in_(
                select(campaigns.c.id).where(
                    campaigns.c.project_id == project_id,
                    campaigns.c.name == name,
                    campaigns.c.deleted_at.is_(None),
                )
            )
        )
    campaign_id = query.param("campaign_id")
    if campaign_id is not None:
        parts.append(vouchers.c.campaign_id == campaign_id)
    category = query.param("category")
    if category is not None:
        parts.append(
            or_(
                vouchers.c.category_id == category,
                vouchers.c.category_id.in_(
                    select(categories.c.id).where(
                        categories.c.project_id == project_id, categories.c.name == category
                    )
                ),
            )
        )
    customer = query.param("customer")
    if customer is not None:
        parts.append(
            or_(
                vouchers.c.holder_id == customer,
                vouchers.c.holder_id.in_(
                    select(customers.c.id).where(
                        customers.c.project_id == project_id, customers.c.source_id == customer
                    )
                ),
            )
        )
    code = query.param("code")
    if code is not None:
        parts.append(vouchers.c.code == code)
    id_keys = [k for k in query.params if k == "ids" or k.startswith("ids[")]
    if id_keys:
        wanted = [v for k in id_keys for raw in query.params[k] for v in split_ids(raw)]
        parts.append(vouchers.c.id.in_(wanted) if wanted else nothing())
    return parts


def split_ids(raw: str) -> list[str]:
    """One ``ids`` query value: a plain id, comma-separated ids, or a JSON/Python list.

    The Python SDK sends a list as its repr, ``['v_1', 'v_2']`` (BEHAVIOR.md §2.3).
    """
    text = raw.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [part.strip().strip("'\"") for part in text.split(",") if part.strip().strip("'\"")]


def list_vouchers(
    conn: Connection, project_id: str, query: ListQuery
) -> tuple[list[dict[str, Any]], int]:
    """One page of live vouchers (newest first by default) and the total matching."""
    base = select(vouchers).where(
        vouchers.c.project_id == project_id,
        LIVE,
        date_range_clause(query, vouchers.c.created_at, vouchers.c.updated_at),
        *_shortcuts(project_id, query),
    )
    clause = filter_clause(query, FIELDS, lambda name: metadata_field(vouchers.c.data, name))
    if clause is not None:
        base = base.where(clause)
    order_by = ordering(query, ORDERS, "-created_at", vouchers.c.id)
    rows, total = page(conn, base, query, order_by)
    cats = catalog.load_categories(conn, project_id, [row.category_id for row in rows])
    return [render_voucher(row, cats) for row in rows], total
