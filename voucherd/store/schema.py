"""The database schema as SQLAlchemy Core tables.

Shape: every table carries ``project_id`` and every query filters on it. Columns
exist for what is looked up, filtered, sorted, locked or counted; the rest of a
resource's wire representation lives in its ``data`` JSON document. Counters that
concurrent requests move (quantity, gift balance, points) are real integer
columns changed only by guarded ``UPDATE`` statements.

Alembic migrations in ``voucherd/store/migrations`` create these tables; tests
check that the two never drift apart.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from voucherd.store.types import Json, Timestamp

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID = String(64)
KEY = String(255)


def _project() -> Column[str]:
    return Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)


def _timestamps() -> list[Column[object]]:
    return [
        Column("created_at", Timestamp(), nullable=False),
        Column("updated_at", Timestamp(), nullable=True),
    ]


projects = Table(
    "projects",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", KEY, nullable=False, unique=True),
    # Client-side settings, time zone, rate limits: see voucherd.store.projects.
    Column("settings", Json, nullable=False),
    Column("created_at", Timestamp(), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    # "server" (X-App-*), "client" (X-Client-*), "management" (X-Management-*).
    Column("kind", String(16), nullable=False),
    Column("app_id", KEY, nullable=False, unique=True),
    # SHA-256 of the token: tokens are long random strings, so a fast hash is enough.
    Column("token_hash", String(64), nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    Column("revoked_at", Timestamp(), nullable=True),
)

categories = Table(
    "categories",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("name", KEY, nullable=False),
    Column("hierarchy", Integer, nullable=False),
    *_timestamps(),
    Index("ix_categories_project_created", "project_id", "created_at"),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("name", KEY, nullable=False),
    Column("campaign_type", String(32), nullable=False),
    Column("type", String(32), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("category_id", ID, nullable=True),
    Column("start_date", Timestamp(), nullable=True),
    Column("expiration_date", Timestamp(), nullable=True),
    Column("data", Json, nullable=False),
    *_timestamps(),
    Column("deleted_at", Timestamp(), nullable=True),
    Index("ix_campaigns_project_created", "project_id", "created_at"),
    Index("ix_campaigns_project_name", "project_id", "name"),
)

vouchers = Table(
    "vouchers",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("code", KEY, nullable=False),
    Column("campaign_id", ID, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=True),
    # DISCOUNT_VOUCHER, GIFT_VOUCHER, LOYALTY_CARD
    Column("type", String(32), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("category_id", ID, nullable=True),
    Column("holder_id", ID, nullable=True),
    Column("start_date", Timestamp(), nullable=True),
    Column("expiration_date", Timestamp(), nullable=True),
    # Redemption limit (NULL = unlimited) and the counters guarded updates move.
    Column("quantity", Integer, nullable=True),
    Column("redeemed_quantity", Integer, nullable=False, server_default=text("0")),
    # Gift cards: lifetime loaded amount, manual removals, credits redeemed; balance derived.
    Column("gift_amount", BigInteger, nullable=True),
    Column("gift_subtracted_amount", BigInteger, nullable=False, server_default=text("0")),
    Column("redeemed_amount", BigInteger, nullable=False, server_default=text("0")),
    # Loyalty cards: lifetime points, manual removals, points redeemed; balance derived.
    Column("loyalty_points", BigInteger, nullable=True),
    Column("loyalty_subtracted_points", BigInteger, nullable=False, server_default=text("0")),
    Column("redeemed_points", BigInteger, nullable=False, server_default=text("0")),
    Column("data", Json, nullable=False),
    *_timestamps(),
    Column("deleted_at", Timestamp(), nullable=True),
    Index("ix_vouchers_project_created", "project_id", "created_at"),
    Index("ix_vouchers_campaign", "campaign_id"),
    Index("ix_vouchers_project_holder", "project_id", "holder_id"),
    # Codes are unique in a project among live vouchers: a deleted code may be reused.
    Index(
        "uq_vouchers_project_code_live",
        "project_id",
        "code",
        unique=True,
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
)

promotion_tiers = Table(
    "promotion_tiers",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("campaign_id", ID, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("hierarchy", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("category_id", ID, nullable=True),
    Column("start_date", Timestamp(), nullable=True),
    Column("expiration_date", Timestamp(), nullable=True),
    Column("redeemed_quantity", Integer, nullable=False, server_default=text("0")),
    Column("data", Json, nullable=False),
    *_timestamps(),
    Index("ix_promotion_tiers_project_created", "project_id", "created_at"),
    Index("ix_promotion_tiers_campaign", "campaign_id", "hierarchy"),
)

promotion_stacks = Table(
    "promotion_stacks",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("campaign_id", ID, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("data", Json, nullable=False),
    *_timestamps(),
    Index("ix_promotion_stacks_campaign", "campaign_id"),
)

customers = Table(
    "customers",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("source_id", KEY, nullable=True),
    Column("name", KEY, nullable=True),
    Column("email", KEY, nullable=True),
    Column("data", Json, nullable=False),
    *_timestamps(),
    Index("ix_customers_project_created", "project_id", "created_at"),
    UniqueConstraint("project_id", "source_id"),
)

products = Table(
    "products",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("source_id", KEY, nullable=True),
    Column("name", KEY, nullable=True),
    Column("price", BigInteger, nullable=True),
    Column("data", Json, nullable=False),
    *_timestamps(),
    Column("deleted_at", Timestamp(), nullable=True),
    Index("ix_products_project_created", "project_id", "created_at"),
    # A source_id names one live product per project; a deleted one may be reused.
    Index(
        "uq_products_project_source_live",
        "project_id",
        "source_id",
        unique=True,
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
)

skus = Table(
    "skus",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("product_id", ID, ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("source_id", KEY, nullable=True),
    Column("price", BigInteger, nullable=True),
    Column("data", Json, nullable=False),
    *_timestamps(),
    Column("deleted_at", Timestamp(), nullable=True),
    Index("ix_skus_product", "product_id"),
    # Likewise one live SKU per source_id in a project.
    Index(
        "uq_skus_project_source_live",
        "project_id",
        "source_id",
        unique=True,
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
)

orders = Table(
    "orders",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("source_id", KEY, nullable=True),
    # CREATED, PAID, CANCELED, FULFILLED
    Column("status", String(16), nullable=False),
    Column("customer_id", ID, nullable=True),
    Column("amount", BigInteger, nullable=True),
    Column("total_amount", BigInteger, nullable=True),
    Column("data", Json, nullable=False),
    *_timestamps(),
    Index("ix_orders_project_created", "project_id", "created_at"),
    Index("ix_orders_project_customer", "project_id", "customer_id"),
    UniqueConstraint("project_id", "source_id"),
)

validation_rules = Table(
    "validation_rules",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("name", KEY, nullable=False),
    Column("data", Json, nullable=False),
    *_timestamps(),
    Index("ix_validation_rules_project_created", "project_id", "created_at"),
)

validation_rule_assignments = Table(
    "validation_rule_assignments",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("rule_id", ID, ForeignKey("validation_rules.id", ondelete="CASCADE"), nullable=False),
    Column("related_object_type", String(32), nullable=False),
    Column("related_object_id", ID, nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    UniqueConstraint("project_id", "rule_id", "related_object_id"),
    Index("ix_validation_rule_assignments_related", "project_id", "related_object_id"),
)

rewards = Table(
    "rewards",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("type", String(16), nullable=False),
    Column("data", Json, nullable=False),
    *_timestamps(),
    Index("ix_rewards_project_created", "project_id", "created_at"),
)

reward_assignments = Table(
    "reward_assignments",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("reward_id", ID, ForeignKey("rewards.id", ondelete="CASCADE"), nullable=False),
    Column("campaign_id", ID, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("points", BigInteger, nullable=True),
    Column("data", Json, nullable=False),
    *_timestamps(),
    Index("ix_reward_assignments_reward", "reward_id"),
    Index("ix_reward_assignments_campaign", "campaign_id"),
)

stacking_rules = Table(
    "stacking_rules",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("data", Json, nullable=False),
    *_timestamps(),
    UniqueConstraint("project_id"),
)

redemptions = Table(
    "redemptions",
    metadata,
    # r_, rf_ (object "redemption"), rr_, rrf_ (object "redemption_rollback")
    Column("id", ID, primary_key=True),
    _project(),
    Column("object", String(32), nullable=False),
    Column("date", Timestamp(), nullable=False),
    Column("result", String(16), nullable=False),
    # SUCCEEDED, FAILED, ROLLED_BACK; moved to ROLLED_BACK by a guarded update.
    Column("status", String(16), nullable=False),
    # Parent redemption of a child; for rollbacks the parent rollback.
    Column("parent_id", ID, nullable=True),
    # For rollbacks: the redemption being undone.
    Column("redemption_id", ID, nullable=True),
    Column("related_object_type", String(32), nullable=False),
    Column("related_object_id", ID, nullable=False),
    Column("voucher_id", ID, nullable=True),
    Column("voucher_code", KEY, nullable=True),
    Column("promotion_tier_id", ID, nullable=True),
    Column("campaign_id", ID, nullable=True),
    Column("campaign_name", KEY, nullable=True),
    Column("customer_id", ID, nullable=True),
    Column("order_id", ID, nullable=True),
    Column("tracking_id", KEY, nullable=True),
    Column("failure_code", String(64), nullable=True),
    # Gift credits or loyalty points consumed (negative on rollbacks).
    Column("amount", BigInteger, nullable=True),
    Column("data", Json, nullable=False),
    Index("ix_redemptions_project_date", "project_id", "date", "id"),
    Index("ix_redemptions_project_customer_date", "project_id", "customer_id", "date", "id"),
    Index("ix_redemptions_project_voucher_date", "project_id", "voucher_id", "date", "id"),
    Index("ix_redemptions_project_campaign_date", "project_id", "campaign_id", "date", "id"),
    # filters[voucher_code]: codes outlive their vouchers (a deleted code may be reused).
    Index("ix_redemptions_project_voucher_code_date", "project_id", "voucher_code", "date", "id"),
    Index("ix_redemptions_parent", "parent_id"),
    Index("ix_redemptions_redemption", "redemption_id"),
    Index("ix_redemptions_order", "order_id"),
)

voucher_transactions = Table(
    "voucher_transactions",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("voucher_id", ID, ForeignKey("vouchers.id", ondelete="CASCADE"), nullable=False),
    # CREDITS_REDEMPTION, CREDITS_REFUND, CREDITS_ADDITION, CREDITS_REMOVAL, POINTS_...
    Column("type", String(48), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("redemption_id", ID, nullable=True),
    Column("data", Json, nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    Index("ix_voucher_transactions_voucher", "voucher_id", "created_at", "id"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("key", KEY, nullable=False),
    # voucher or promotion tier the reservation is held on
    Column("related_object_id", ID, nullable=False),
    Column("quantity", Integer, nullable=False, server_default=text("0")),
    Column("credits", BigInteger, nullable=False, server_default=text("0")),
    Column("points", BigInteger, nullable=False, server_default=text("0")),
    Column("expires_at", Timestamp(), nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    UniqueConstraint("project_id", "key", "related_object_id"),
    Index("ix_sessions_related", "related_object_id", "expires_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("key", KEY, primary_key=True),
    Column("endpoint", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response", Text, nullable=True),
    Column("created_at", Timestamp(), nullable=False),
    Column("expires_at", Timestamp(), nullable=False),
)

async_actions = Table(
    "async_actions",
    metadata,
    Column("id", ID, primary_key=True),
    _project(),
    Column("type", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("data", Json, nullable=False),
    *_timestamps(),
)
