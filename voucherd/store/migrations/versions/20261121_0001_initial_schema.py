"""Initial schema: projects, keys, catalog, redemptions, ledger, sessions.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 23:37:36.604186
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voucherd.store.types import Json, Timestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("settings", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("app_id", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("revoked_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_api_keys_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("app_id", name=op.f("uq_api_keys_app_id")),
    )
    op.create_table(
        "async_actions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_async_actions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_async_actions")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("campaign_type", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("category_id", sa.String(length=64), nullable=True),
        sa.Column("start_date", Timestamp(), nullable=True),
        sa.Column("expiration_date", Timestamp(), nullable=True),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.Column("deleted_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_campaigns_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaigns_project_created", ["project_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_campaigns_project_name", ["project_id", "name"], unique=False)

    op.create_table(
        "categories",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("hierarchy", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_categories_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_index(
            "ix_categories_project_created", ["project_id", "created_at"], unique=False
        )

    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_customers_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint(
            "project_id", "source_id", name=op.f("uq_customers_project_id_source_id")
        ),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customers_project_created", ["project_id", "created_at"], unique=False
        )

    op.create_table(
        "idempotency_keys",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("endpoint", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("expires_at", Timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_idempotency_keys_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "key", "endpoint", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("total_amount", sa.BigInteger(), nullable=True),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_orders_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("project_id", "source_id", name=op.f("uq_orders_project_id_source_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_project_created", ["project_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_orders_project_customer", ["project_id", "customer_id"], unique=False
        )

    op.create_table(
        "products",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.Column("deleted_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_products_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_products_project_created", ["project_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_products_project_source_live",
            ["project_id", "source_id"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "redemptions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("object", sa.String(length=32), nullable=False),
        sa.Column("date", Timestamp(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("redemption_id", sa.String(length=64), nullable=True),
        sa.Column("related_object_type", sa.String(length=32), nullable=False),
        sa.Column("related_object_id", sa.String(length=64), nullable=False),
        sa.Column("voucher_id", sa.String(length=64), nullable=True),
        sa.Column("voucher_code", sa.String(length=255), nullable=True),
        sa.Column("promotion_tier_id", sa.String(length=64), nullable=True),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("campaign_name", sa.String(length=255), nullable=True),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("tracking_id", sa.String(length=255), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("data", Json, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_redemptions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_redemptions_order", ["order_id"], unique=False)
        batch_op.create_index("ix_redemptions_parent", ["parent_id"], unique=False)
        batch_op.create_index(
            "ix_redemptions_project_campaign_date",
            ["project_id", "campaign_id", "date", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_redemptions_project_customer_date",
            ["project_id", "customer_id", "date", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_redemptions_project_date", ["project_id", "date", "id"], unique=False
        )
        batch_op.create_index(
            "ix_redemptions_project_voucher_date",
            ["project_id", "voucher_id", "date", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_redemptions_project_voucher_code_date",
            ["project_id", "voucher_code", "date", "id"],
            unique=False,
        )
        batch_op.create_index("ix_redemptions_redemption", ["redemption_id"], unique=False)

    op.create_table(
        "rewards",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_rewards_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rewards_project_created", ["project_id", "created_at"], unique=False
        )

    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("related_object_id", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("points", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("expires_at", Timestamp(), nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sessions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint(
            "project_id",
            "key",
            "related_object_id",
            name=op.f("uq_sessions_project_id_key_related_object_id"),
        ),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sessions_related", ["related_object_id", "expires_at"], unique=False
        )

    op.create_table(
        "stacking_rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_stacking_rules_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stacking_rules")),
        sa.UniqueConstraint("project_id", name=op.f("uq_stacking_rules_project_id")),
    )
    op.create_table(
        "validation_rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_validation_rules_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_rules")),
    )
    with op.batch_alter_table("validation_rules", schema=None) as batch_op:
        batch_op.create_index(
            "ix_validation_rules_project_created", ["project_id", "created_at"], unique=False
        )

    op.create_table(
        "promotion_stacks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_promotion_stacks_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_promotion_stacks_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_stacks")),
    )
    with op.batch_alter_table("promotion_stacks", schema=None) as batch_op:
        batch_op.create_index("ix_promotion_stacks_campaign", ["campaign_id"], unique=False)

    op.create_table(
        "promotion_tiers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("hierarchy", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("category_id", sa.String(length=64), nullable=True),
        sa.Column("start_date", Timestamp(), nullable=True),
        sa.Column("expiration_date", Timestamp(), nullable=True),
        sa.Column("redeemed_quantity", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_promotion_tiers_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_promotion_tiers_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_tiers")),
    )
    with op.batch_alter_table("promotion_tiers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_promotion_tiers_campaign", ["campaign_id", "hierarchy"], unique=False
        )
        batch_op.create_index(
            "ix_promotion_tiers_project_created", ["project_id", "created_at"], unique=False
        )

    op.create_table(
        "reward_assignments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("reward_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=True),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_reward_assignments_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_reward_assignments_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"],
            ["rewards.id"],
            name=op.f("fk_reward_assignments_reward_id_rewards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_assignments")),
    )
    with op.batch_alter_table("reward_assignments", schema=None) as batch_op:
        batch_op.create_index("ix_reward_assignments_campaign", ["campaign_id"], unique=False)
        batch_op.create_index("ix_reward_assignments_reward", ["reward_id"], unique=False)

    op.create_table(
        "skus",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.Column("deleted_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_skus_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_skus_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skus")),
    )
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.create_index("ix_skus_product", ["product_id"], unique=False)
        batch_op.create_index(
            "uq_skus_project_source_live",
            ["project_id", "source_id"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "validation_rule_assignments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("related_object_type", sa.String(length=32), nullable=False),
        sa.Column("related_object_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_validation_rule_assignments_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["validation_rules.id"],
            name=op.f("fk_validation_rule_assignments_rule_id_validation_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_rule_assignments")),
        sa.UniqueConstraint(
            "project_id",
            "rule_id",
            "related_object_id",
            name=op.f("uq_validation_rule_assignments_project_id_rule_id_related_object_id"),
        ),
    )
    with op.batch_alter_table("validation_rule_assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_validation_rule_assignments_related",
            ["project_id", "related_object_id"],
            unique=False,
        )

    op.create_table(
        "vouchers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("category_id", sa.String(length=64), nullable=True),
        sa.Column("holder_id", sa.String(length=64), nullable=True),
        sa.Column("start_date", Timestamp(), nullable=True),
        sa.Column("expiration_date", Timestamp(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("redeemed_quantity", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("gift_amount", sa.BigInteger(), nullable=True),
        sa.Column(
            "gift_subtracted_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("redeemed_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("loyalty_points", sa.BigInteger(), nullable=True),
        sa.Column(
            "loyalty_subtracted_points",
            sa.BigInteger(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("redeemed_points", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=True),
        sa.Column("deleted_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_vouchers_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_vouchers_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
    )
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.create_index("ix_vouchers_campaign", ["campaign_id"], unique=False)
        batch_op.create_index(
            "ix_vouchers_project_created", ["project_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_vouchers_project_holder", ["project_id", "holder_id"], unique=False
        )
        batch_op.create_index(
            "uq_vouchers_project_code_live",
            ["project_id", "code"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "voucher_transactions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("voucher_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("redemption_id", sa.String(length=64), nullable=True),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_voucher_transactions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["vouchers.id"],
            name=op.f("fk_voucher_transactions_voucher_id_vouchers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_transactions")),
    )
    with op.batch_alter_table("voucher_transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_voucher_transactions_voucher", ["voucher_id", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voucher_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_voucher_transactions_voucher")

    op.drop_table("voucher_transactions")
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_vouchers_project_code_live",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index("ix_vouchers_project_holder")
        batch_op.drop_index("ix_vouchers_project_created")
        batch_op.drop_index("ix_vouchers_campaign")

    op.drop_table("vouchers")
    with op.batch_alter_table("validation_rule_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_validation_rule_assignments_related")

    op.drop_table("validation_rule_assignments")
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_skus_project_source_live",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index("ix_skus_product")

    op.drop_table("skus")
    with op.batch_alter_table("reward_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_reward_assignments_reward")
        batch_op.drop_index("ix_reward_assignments_campaign")

    op.drop_table("reward_assignments")
    with op.batch_alter_table("promotion_tiers", schema=None) as batch_op:
        batch_op.drop_index("ix_promotion_tiers_project_created")
        batch_op.drop_index("ix_promotion_tiers_campaign")

    op.drop_table("promotion_tiers")
    with op.batch_alter_table("promotion_stacks", schema=None) as batch_op:
        batch_op.drop_index("ix_promotion_stacks_campaign")

    op.drop_table("promotion_stacks")
    with op.batch_alter_table("validation_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_validation_rules_project_created")

    op.drop_table("validation_rules")
    op.drop_table("stacking_rules")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_related")

    op.drop_table("sessions")
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.drop_index("ix_rewards_project_created")

    op.drop_table("rewards")
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_redemptions_redemption")
        batch_op.drop_index("ix_redemptions_project_voucher_code_date")
        batch_op.drop_index("ix_redemptions_project_voucher_date")
        batch_op.drop_index("ix_redemptions_project_date")
        batch_op.drop_index("ix_redemptions_project_customer_date")
        batch_op.drop_index("ix_redemptions_project_campaign_date")
        batch_op.drop_index("ix_redemptions_parent")
        batch_op.drop_index("ix_redemptions_order")

    op.drop_table("redemptions")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_products_project_source_live",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index("ix_products_project_created")

    op.drop_table("products")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_project_customer")
        batch_op.drop_index("ix_orders_project_created")

    op.drop_table("orders")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_project_created")

    op.drop_table("customers")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_index("ix_categories_project_created")

    op.drop_table("categories")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_project_name")
        batch_op.drop_index("ix_campaigns_project_created")

    op.drop_table("campaigns")
    op.drop_table("async_actions")
    op.drop_table("api_keys")
    op.drop_table("projects")
