"""Time-based one-time codes (RFC 6238) that are one-time: a code once accepted is never accepted again.

A TOTP code stays valid for its 30-second step and, to forgive clocks, the steps either side. Without a
memory of the last step used, the same code opens a second session for up to a minute and a half: a code
read over a shoulder or relayed by a phishing page is then as good as the phone. RFC 6238 §5.2 asks the
verifier to refuse it; the account keeps the last step it accepted, and a code must belong to a later one.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime

import pyotp
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from carnet.identity.models import OperatorAccount, PatientAccount

STEPS_FORGIVEN = 1  # one step (30 s) each side of the present, for the phone's clock


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step this code belongs to (the present one or a neighbour), or None: a wrong code."""
    totp = pyotp.TOTP(secret)
    present = totp.timecode(now)
    found = None
    for step in range(present - STEPS_FORGIVEN, present + STEPS_FORGIVEN + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):  # every step compared: the same time for all
            found = step
    return found


Account = type[PatientAccount | OperatorAccount]


def claim_step(session: Session, account: Account, account_id: uuid.UUID, step: int) -> bool:
    """Record this step as used, if it is later than the last one; False: the code was already spent.

    One conditional UPDATE: of two requests racing with the same code, only one changes the row.
    """
    claimed = session.execute(
        update(account)
        .where(account.id == account_id, or_(account.totp_last_step.is_(None), account.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(claimed, "rowcount", 0))


def accept(
    session: Session,
    account: Account,
    account_id: uuid.UUID,
    secret: str,
    code: str,
    now: datetime,
) -> bool:
    """True when the code is right and has not been used before (it is then spent)."""
    step = matching_step(secret, code, now)
    return step is not None and claim_step(session, account, account_id, step)
