"""HTTP routes, one module per resource.

Routers are grouped by authentication scheme; ``voucherd.api.app`` attaches the
matching dependency to every route of a group, so no ``/v1`` route can forget it.
"""

from __future__ import annotations

from fastapi import APIRouter

from voucherd.api.routes import (
    categories,
    health,
    redemptions,
    rewards,
    stacking_rules,
    validation_rules,
)

PUBLIC_ROUTERS: list[APIRouter] = [health.router]
SERVER_ROUTERS: list[APIRouter] = [
    redemptions.router,
    categories.router,
    validation_rules.router,
    rewards.router,
]
CLIENT_ROUTERS: list[APIRouter] = []
MANAGEMENT_ROUTERS: list[APIRouter] = [stacking_rules.router]
