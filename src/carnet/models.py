"""Every table, gathered so Alembic sees the whole schema."""

from carnet.kit.db import Base
from carnet.records import models as records_models

metadata = Base.metadata

__all__ = ["metadata", "records_models"]
