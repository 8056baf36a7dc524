"""The whole schema: every table module, imported so that ``Base.metadata`` knows them all.

It sits above every domain package (migrations, the demo's bulk loader and the tests read it), so
that the storage layer below them need not know any domain.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from colloque.accounts import models as _accounts
from colloque.audit import models as _audit
from colloque.authorization import models as _authorization
from colloque.booking import models as _booking
from colloque.booking.waitlist import models as _waitlist
from colloque.containment import models as _containment
from colloque.incidents import models as _incidents
from colloque.keydirectory import models as _keydirectory
from colloque.notifications import models as _notifications
from colloque.patients import models as _patients
from colloque.practicekeys import models as _practicekeys
from colloque.records import models as _records
from colloque.scheduling import models as _scheduling
from colloque.storage.base import Base

TABLE_MODULES = (
    _accounts,
    _audit,
    _authorization,
    _booking,
    _waitlist,
    _containment,
    _incidents,
    _keydirectory,
    _notifications,
    _patients,
    _practicekeys,
    _records,
    _scheduling,
)


def load_metadata() -> MetaData:
    return Base.metadata
