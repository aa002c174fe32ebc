"""The audit trail for operators with the audit role: is it intact, when was it last sealed, and one
professional's accesses as a CSV file (identifiers, codes and times; no medical content).

Verifying reads every chain, so it runs when asked (a button), not on every visit of the page. The export is
a form posted with its token: which professional an auditor looks into stays out of addresses and logs.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from carnet.api.deps import web
from carnet.audit.operations import AUDIT_ROLE, TrailStatus, last_seal, professional_accesses, trail_status
from carnet.kit import clock
from carnet.kit.errors import CarnetError
from carnet.portal.messages import N_
from carnet.portal.operator import operator_page, operator_unit
from carnet.portal.patient import FieldErrors
from carnet.portal.web import checked_form, field, gettext, known_message

router = APIRouter(include_in_schema=False)
PAGE = "operator/audit.html"
EXPORT_FIELDS = {"invalid-rpps": "rpps", "invalid-period": "to", "period-too-long": "from"}
# audit/operations.py's refusals of a period, for the catalogue.
PERIOD_MESSAGES = (N_("The period ends before it starts."), N_("Export at most one year at a time."))
# What audit/chain.py and audit/seal.py say of a break; those that carry numbers are shown as they are.
BREAKS = (
    N_("entries are out of order or duplicated (reordered or inserted)"),
    N_("it does not follow the entry before it (inserted or reordered)"),
    N_("its content no longer matches its hash (edited)"),
    N_("the chain has entries but no head (head deleted)"),
    N_("entries follow the head (inserted at the end)"),
    N_("the chain does not end where its head says (edited or replaced)"),
    N_("it differs from what was sealed (the chain was rewritten)"),
    N_("its signature is not the sealing key's (forged)"),
    N_("the sealed log no longer has this root (leaves changed)"),
    N_("it does not extend the seal before it"),
)


def _defaults() -> dict[str, str]:
    today = clock.today()
    return {"rpps": "", "from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()}


def _show(
    request: Request,
    *,
    status: TrailStatus | None = None,
    errors: FieldErrors | None = None,
    values: dict[str, str] | None = None,
    code: int = 200,
) -> Response:
    with operator_unit(request, AUDIT_ROLE) as (ctx, operator):
        seal, sealed, written = last_seal(ctx, operator.view)
        if status is not None:
            seal, sealed, written = status.last_seal, status.sealed_entries, status.written_entries
    context = {"status": status, "seal": seal, "sealed": sealed, "written": written}
    return operator_page(request, PAGE, operator, context, errors=errors, values=values or _defaults(), status=code)


@router.get("/operator/audit")
def audit_page(request: Request) -> Response:
    return _show(request)


@router.post("/operator/audit/verify")
async def verify_trail(request: Request) -> Response:
    await checked_form(request)
    public_key = web(request).runtime.settings.seal_public_key()
    with operator_unit(request, AUDIT_ROLE) as (ctx, operator):
        status = trail_status(ctx, operator.actor, operator.view, public_key)
    return _show(request, status=status)


def _day(form: FormData, name: str, errors: FieldErrors, missing: str, malformed: str) -> date | None:
    raw = field(form, name, 10).strip()
    if not raw:
        errors.add(name, missing)
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.add(name, malformed)
        return None


@router.post("/operator/audit/export")
async def export_accesses(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    values = {"rpps": field(form, "rpps", 20), "from": field(form, "from", 10), "to": field(form, "to", 10)}
    errors = FieldErrors()
    if not values["rpps"].strip():
        errors.add("rpps", _("Enter the professional's RPPS number."))
    malformed = _("Enter a date as day, month and year.")
    since = _day(form, "from", errors, _("Enter the first day of the period."), malformed)
    until = _day(form, "to", errors, _("Enter the last day of the period."), malformed)
    if errors or since is None or until is None:
        return _show(request, errors=errors, values=values, code=422)
    try:
        with operator_unit(request, AUDIT_ROLE) as (ctx, operator):
            text, _count = professional_accesses(ctx, operator.actor, operator.view, values["rpps"], since, until)
    except CarnetError as exc:
        if exc.code not in EXPORT_FIELDS:
            raise
        errors.add(EXPORT_FIELDS[exc.code], _export_message(request, exc))
        return _show(request, errors=errors, values=values, code=exc.status)
    number = "".join(c for c in values["rpps"] if c.isdigit())
    name = f"accesses-{number}-{since.isoformat()}-{until.isoformat()}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _export_message(request: Request, exc: CarnetError) -> str:
    _ = gettext(request).gettext
    if exc.code == "invalid-rpps":  # the service's sentence repeats what was typed: ours says what to check
        return _("An RPPS number has 11 digits, the last one a check digit: check each digit.")
    return known_message(request, exc)
