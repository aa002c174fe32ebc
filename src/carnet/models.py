"""Every table, gathered so Alembic sees the whole schema."""

from carnet.access import models as access_models
from carnet.audit import models as audit_models
from carnet.feeds import models as feeds_models
from carnet.identity import models as identity_models
from carnet.kit.db import Base
from carnet.notify import models as notify_models
from carnet.records import models as records_models
from carnet.stats import models as stats_models

metadata = Base.metadata

__all__ = [
    "access_models",
    "audit_models",
    "feeds_models",
    "identity_models",
    "metadata",
    "notify_models",
    "records_models",
    "stats_models",
]
