"""The access matrix for operators: which profession may read which class of document, its versions, a change.

Every operator may read the matrix and its history: it is the rule the whole system runs by, and no secret.
Changing a cell takes the accounts role: the matrix decides who may read what, the same kind of duty as
deciding who holds an account, and it keeps the audit role (which checks what was done) apart from changing
the rules it checks. The service (access.service.change_matrix) refuses a change without a reason of 10
characters or more; its sentence is shown beside the field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from carnet.access.matrix import ADVANCE_DIRECTIVES
from carnet.access.service import change_matrix, matrix_history, matrix_in_force
from carnet.kit.errors import CarnetError
from carnet.kit.professions import PROFESSIONS as PROFESSION_CODES
from carnet.portal.labels import CLASSES
from carnet.portal.messages import N_
from carnet.portal.operator import operator_page, operator_unit
from carnet.portal.patient import FieldErrors
from carnet.portal.people import PROFESSIONS
from carnet.portal.web import checked_form, field, gettext, known_message, redirect
from carnet.records.codes import DOCUMENT_CLASSES

router = APIRouter(include_in_schema=False)
CHANGE_ROLE = "accounts"
COLUMNS = {**{code: CLASSES[code] for code in DOCUMENT_CLASSES}, ADVANCE_DIRECTIVES: N_("Advance directives")}
ROWS = {code: PROFESSIONS[code] for code in sorted(PROFESSION_CODES)}
DECISIONS = ("allow", "refuse")
# access/service.py's refusal of a change without its reason.
REASON_MESSAGE = N_("A matrix change names its operator and gives a reason (10 characters at least).")


def _labels() -> dict[str, object]:
    return {"columns": COLUMNS, "rows": ROWS}


@router.get("/operator/matrix")
def matrix_page(request: Request) -> Response:
    with operator_unit(request) as (ctx, operator):
        matrix = matrix_in_force(ctx)
    return operator_page(request, "operator/matrix.html", operator, {"matrix": matrix, **_labels()})


@router.get("/operator/matrix/history")
def history_page(request: Request, changed: Annotated[int | None, Query(ge=1, le=10**9)] = None) -> Response:
    with operator_unit(request) as (ctx, operator):
        versions = matrix_history(ctx)
    context = {"versions": versions, "changed": changed, **_labels()}
    return operator_page(request, "operator/matrix_history.html", operator, context)


@router.get("/operator/matrix/change")
def change_form(
    request: Request,
    profession: Annotated[str, Query(max_length=2)] = "",
    class_code: Annotated[str, Query(alias="class", max_length=2)] = "",
) -> Response:
    with operator_unit(request, CHANGE_ROLE) as (ctx, operator):
        matrix = matrix_in_force(ctx)
    values = {
        "profession": profession if profession in ROWS else "",
        "class": class_code if class_code in COLUMNS else "",
        "decision": "",
        "reason": "",
    }
    return operator_page(
        request, "operator/matrix_change.html", operator, {"matrix": matrix, **_labels()}, values=values
    )


@router.post("/operator/matrix/change")
async def change(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    values = {
        "profession": field(form, "profession", 2),
        "class": field(form, "class", 2),
        "decision": field(form, "decision", 8),
        "reason": field(form, "reason", 500),
    }
    errors = FieldErrors()
    if values["profession"] not in ROWS:
        errors.add("profession", _("Choose the profession."))
    if values["class"] not in COLUMNS:
        errors.add("class", _("Choose the kind of document."))
    if values["decision"] not in DECISIONS:
        errors.add("decision", _("Choose whether this profession may read it."))
    status = 422
    if not errors:
        try:
            with operator_unit(request, CHANGE_ROLE) as (ctx, operator):
                changed = change_matrix(
                    ctx,
                    operator=operator.view.login,
                    profession=values["profession"],
                    class_code=values["class"],
                    allow=values["decision"] == "allow",
                    reason=values["reason"],
                )
        except CarnetError as exc:
            if exc.code == "no-change":
                errors.add("decision", _("The matrix in force already says that: nothing was changed."))
            elif exc.status == 422:
                errors.add("reason", known_message(request, exc))
            else:
                raise
            status = 422
        else:
            return redirect(f"/operator/matrix/history?changed={changed.version}")
    with operator_unit(request, CHANGE_ROLE) as (ctx, operator):
        matrix = matrix_in_force(ctx)
    context = {"matrix": matrix, **_labels()}
    return operator_page(
        request, "operator/matrix_change.html", operator, context, errors=errors, values=values, status=status
    )
