"""How much a credential may read in a window, for its role and its practice's size (pure).

A credential scores points per window: each distinct person read is 1 point (``far_weight``
when the read looked further than ``horizon`` from now, as an agenda window years back or ahead
does), each distinct appointment a tenth of that, each change ``change_weight``. Past
``base + per_patient x patients`` for its role it is suspended (``containment.services``).

The same points are also counted over the credential's day (``day``, from its first counted
event in the practice), against ``day_factor`` times that limit: a thief reading just under the
hourly limit hour after hour is stopped by the day's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from colloque.config import Settings
from colloque.principal import Role

#: An appointment read counts this share of a person: the persons are what a thief is after.
APPOINTMENT_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class RoleLimit:
    base: int
    per_patient: float

    def points(self, patients: int) -> float:
        return self.base + self.per_patient * patients


def _default_roles() -> Mapping[Role, RoleLimit]:
    return MappingProxyType(
        {
            Role.SECRETARY: RoleLimit(120, 0.04),
            Role.PRACTITIONER: RoleLimit(100, 0.03),
            Role.ADMIN: RoleLimit(120, 0.04),
            Role.OPERATOR: RoleLimit(60, 0.01),
        }
    )


@dataclass(frozen=True, slots=True)
class ContainmentLimits:
    enabled: bool = True
    window: timedelta = timedelta(hours=1)
    roles: Mapping[Role, RoleLimit] = field(default_factory=_default_roles)
    horizon: timedelta = timedelta(days=120)
    far_weight: float = 4.0
    change_weight: float = 2.0
    #: A busy agenda shows more persons a week than its registry size suggests: the limit is
    #: at least this many times the practice's appointments of the coming week.
    per_weekly_appointment: float = 2.5
    #: The day's window, from the credential's first counted event in the practice: a staff
    #: session lives 12 hours at most, so it is the whole of a stolen session's life.
    day: timedelta = timedelta(days=1)
    #: The day's limit, in hourly limits: a desk reads its weeks in its first hour, and then
    #: mostly the same persons again.
    day_factor: float = 3.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ContainmentLimits:
        """The ``containment_*`` settings (``COLLOQUE_CONTAINMENT_*``, docs/operations.md)."""
        return cls(
            enabled=settings.containment_enabled,
            window=timedelta(seconds=settings.containment_window_seconds),
            roles=MappingProxyType(
                {
                    Role.SECRETARY: RoleLimit(
                        settings.containment_secretary_base,
                        settings.containment_secretary_per_patient,
                    ),
                    Role.PRACTITIONER: RoleLimit(
                        settings.containment_practitioner_base,
                        settings.containment_practitioner_per_patient,
                    ),
                    Role.ADMIN: RoleLimit(
                        settings.containment_admin_base, settings.containment_admin_per_patient
                    ),
                    Role.OPERATOR: RoleLimit(
                        settings.containment_operator_base,
                        settings.containment_operator_per_patient,
                    ),
                }
            ),
            horizon=timedelta(days=settings.containment_horizon_days),
            far_weight=settings.containment_far_weight,
            change_weight=settings.containment_change_weight,
            per_weekly_appointment=settings.containment_per_weekly_appointment,
            day=timedelta(seconds=settings.containment_day_seconds),
            day_factor=settings.containment_day_factor,
        )

    def limit(self, role_limit: RoleLimit, *, patients: int, weekly_appointments: int) -> float:
        """The points a window allows: the role's baseline for the practice's size, or more for
        an agenda busier than that size says (a desk reads its weeks)."""
        return max(role_limit.points(patients), self.per_weekly_appointment * weekly_appointments)

    def day_limit(self, window_limit: float) -> float:
        """The points the credential's day allows, from its window's limit."""
        return self.day_factor * window_limit

    def window_start(self, at: datetime) -> datetime:
        """The start of the fixed window ``at`` falls in (windows are aligned on the epoch)."""
        seconds = self.window.total_seconds()
        epoch = at.timestamp()
        return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)

    def weight(self, span: tuple[datetime, datetime] | None, now: datetime) -> float:
        """What a person read counts: more when the read reached far from today."""
        if span is None:
            return 1.0
        start, until = span
        if start < now - self.horizon or until > now + self.horizon:
            return self.far_weight
        return 1.0
