"""The insurer's feed: reimbursement lines of the last 24 months."""
