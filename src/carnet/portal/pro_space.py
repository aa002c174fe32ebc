"""The professional's space, its journeys gathered into one router for the portal to include."""

from __future__ import annotations

from fastapi import APIRouter

from carnet.portal import pro, pro_card, pro_documents, pro_emergency, pro_profile, pro_record, staff_oidc

router = APIRouter(include_in_schema=False)
for journey in (pro, pro_card, pro_record, pro_profile, pro_documents, pro_emergency, staff_oidc):
    router.include_router(journey.router)
