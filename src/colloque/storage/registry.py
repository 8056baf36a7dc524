"""Imports every table module so that ``Base.metadata`` knows the whole schema."""

from __future__ import annotations

from sqlalchemy import MetaData


def load_metadata() -> MetaData:
    from colloque.accounts import models as _accounts  # noqa: F401
    from colloque.audit import models as _audit  # noqa: F401
    from colloque.authorization import models as _authorization  # noqa: F401
    from colloque.booking import models as _booking  # noqa: F401
    from colloque.keydirectory import models as _keydirectory  # noqa: F401
    from colloque.notifications import models as _notifications  # noqa: F401
    from colloque.patients import models as _patients  # noqa: F401
    from colloque.practicekeys import models as _practicekeys  # noqa: F401
    from colloque.records import models as _records  # noqa: F401
    from colloque.scheduling import models as _scheduling  # noqa: F401
    from colloque.search import models as _search  # noqa: F401
    from colloque.storage.base import Base
    from colloque.waitlist import models as _waitlist  # noqa: F401

    return Base.metadata
