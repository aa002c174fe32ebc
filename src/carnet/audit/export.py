"""What operators may take out of the trail: every access of one professional over a period, as CSV.

Identifiers, codes and times only: no title, no content, nothing medical.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy.orm import Session

from carnet.audit import repository
from carnet.kit.identifiers import parse_rpps

COLUMNS = (
    "at",
    "patient_id",
    "seq",
    "action",
    "subject",
    "mode",
    "profession",
    "organisation",
    "allowed",
    "reason",
    "source",
    "request_id",
)


def export_professional(session: Session, rpps: str, since: datetime, until: datetime, out: TextIO) -> int:
    """Write the professional's entries from `since` (included) to `until` (excluded); return how many."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for entry in repository.professional_entries(session, parse_rpps(rpps), since, until):
        writer.writerow(
            (
                entry.at.astimezone(UTC).isoformat(),
                entry.chain_id,
                entry.seq,
                entry.action,
                entry.subject or "",
                entry.mode,
                entry.profession or "",
                entry.organisation or "",
                "yes" if entry.allowed else "no",
                entry.reason,
                entry.source or "",
                entry.request_id or "",
            )
        )
        count += 1
    return count
