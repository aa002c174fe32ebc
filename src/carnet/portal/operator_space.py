"""The operator space's pages, as one router for the portal to include (see operator.py)."""

from __future__ import annotations

from fastapi import APIRouter

from carnet.portal import operator, operator_audit, operator_matrix, operator_stats

router = APIRouter(include_in_schema=False)
for part in (operator.router, operator_audit.router, operator_matrix.router, operator_stats.router):
    router.include_router(part)
