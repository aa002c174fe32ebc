"""The matrix's versions as operators read them: newest first, each with the cells it allowed or refused."""

from __future__ import annotations

from carnet.access import gate
from carnet.access.service import change_matrix, matrix_history
from carnet.context import Context


def test_each_version_says_what_it_changed_who_made_it_and_why(ctx: Context) -> None:
    shipped = gate.matrix(ctx).version
    change_matrix(
        ctx, operator="ops.one", profession="21", class_code="31", allow=True, reason="Imagerie pour le suivi"
    )
    change_matrix(ctx, operator="ops.two", profession="21", class_code="42", allow=False, reason="Essai de retrait")
    newest, middle, *older = matrix_history(ctx)
    assert (newest.version, newest.by, newest.reason) == (shipped + 2, "ops.two", "Essai de retrait")
    assert (newest.allowed, newest.refused, newest.first) == ([], [("21", "42")], False)
    assert (middle.version, middle.allowed, middle.refused) == (shipped + 1, [("21", "31")], [])
    assert older[-1].version == 1 and older[-1].first and older[-1].allowed == []
    assert [c.version for c in matrix_history(ctx, limit=1)] == [shipped + 2]
    assert matrix_history(ctx, limit=1)[0].refused == [("21", "42")]  # the version before it is read to say so
