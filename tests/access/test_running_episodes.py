"""The emergency episodes a professional has running, and a declaration made by INS (the portal's form)."""

from __future__ import annotations

import uuid

import pytest

from carnet.access.actor import Actor, Mode
from carnet.access.service import (
    declare_emergency,
    declare_emergency_for_ins,
    running_episode,
    running_episodes,
    set_opt_outs,
)
from carnet.context import Context
from carnet.kit.errors import Forbidden, Invalid, NotFound
from carnet.records.service import record_summary
from tests.factories import new_ins, open_test_record, rpps

WHY = "Patient inconscient aux urgences, pas de proche joignable."


def test_a_declared_episode_runs_for_its_professional_only(ctx: Context) -> None:
    patient_id, other = open_test_record(ctx), open_test_record(ctx)
    doctor = Actor.professional(rpps(51), "10", mode=Mode.EMERGENCY)
    assert running_episodes(ctx, doctor) == [] and running_episode(ctx, doctor, patient_id) is None
    view = declare_emergency(ctx, doctor, patient_id, WHY)
    running = running_episode(ctx, doctor, patient_id)
    assert running is not None and (running.mode, running.ends_at) == (Mode.EMERGENCY, view.ends_at)
    assert running_episode(ctx, doctor, other) is None
    assert running_episode(ctx, Actor.professional(rpps(52), "10"), patient_id) is None


def test_a_declaration_by_ins_finds_the_record_and_refuses_like_the_gate(ctx: Context) -> None:
    ins = new_ins()
    patient_id = open_test_record(ctx, ins=ins)
    doctor = Actor.professional(rpps(53), "10", mode=Mode.EMERGENCY)
    with pytest.raises(Invalid, match="justification"):
        declare_emergency_for_ins(ctx, doctor, ins, "court")
    with pytest.raises(NotFound):
        declare_emergency_for_ins(ctx, doctor, new_ins(), WHY)
    found, view = declare_emergency_for_ins(ctx, doctor, ins, WHY)
    assert found == patient_id and view.mode == "emergency"
    assert record_summary(ctx, doctor, patient_id).patient_id == patient_id


def test_the_patients_opt_out_refuses_the_declaration_by_ins(ctx: Context) -> None:
    ins = new_ins()
    patient_id = open_test_record(ctx, ins=ins)
    set_opt_outs(ctx, Actor.patient(patient_id), patient_id, emergency=True, regulation=None)
    with pytest.raises(Forbidden, match="refused emergency access"):
        declare_emergency_for_ins(ctx, Actor.professional(rpps(54), "10", mode=Mode.EMERGENCY), ins, WHY)
    assert running_episodes(ctx, Actor.professional(rpps(54), "10")) == []
    assert uuid.UUID(int=0) != patient_id
