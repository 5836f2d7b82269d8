"""HTTP routes, one module per resource.

Routers are grouped by authentication scheme; ``voucherd.api.app`` attaches the
matching dependency to every route of a group, so no ``/v1`` route can forget it.
"""

from __future__ import annotations

from fastapi import APIRouter

from voucherd.api.routes import (
    campaigns,
    categories,
    client,
    customers,
    health,
    loyalties,
    orders,
    products,
    promotions,
    redemptions,
    rewards,
    stacking_rules,
    validation_rules,
    validations,
    vouchers,
)

PUBLIC_ROUTERS: list[APIRouter] = [health.router]
SERVER_ROUTERS: list[APIRouter] = [
    redemptions.router,
    validations.router,
    vouchers.router,
    campaigns.router,
    promotions.router,
    customers.router,
    products.router,
    orders.router,
    categories.router,
    validation_rules.router,
    rewards.router,
    loyalties.router,
]
CLIENT_ROUTERS: list[APIRouter] = [client.router]
MANAGEMENT_ROUTERS: list[APIRouter] = [stacking_rules.router]
