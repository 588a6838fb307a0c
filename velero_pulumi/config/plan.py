"""The backup plan: what each schedule promises (RPO, retention) and costs (backups kept, storage).

Storage is estimated from each service's data size and daily change rate in the catalogue:
kopia keeps one full copy of the data plus, per backup kept, the chunks that changed since the
previous one (at most the whole data again), so a schedule costs
size x (1 + kept backups x min(1, daily change x days between backups)). Schedules of one
namespace share a kopia repository and deduplicate against each other, so the total is an
upper bound.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Optional

from .catalogue import Catalogue, Schedule, Service
from .cron import parse_cron

_QUANTITY = re.compile(r"^([0-9]+)(Ki|Mi|Gi|Ti)$")
_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
GIB = 2**30


def quantity_bytes(quantity: str) -> int:
    number, unit = _QUANTITY.match(quantity).groups()
    return int(number) * _UNITS[unit]


@dataclass(frozen=True)
class SchedulePlan:
    name: str
    cron: str
    paused: bool
    rpo_minutes: Optional[int]
    retention_hours: float
    kept_backups: int
    services: tuple[str, ...]
    estimated_bytes: int


@dataclass(frozen=True)
class BackupPlan:
    schedules: tuple[SchedulePlan, ...]
    warnings: tuple[str, ...]

    @property
    def total_kept_backups(self) -> int:
        return sum(plan.kept_backups for plan in self.schedules)

    @property
    def total_estimated_bytes(self) -> int:
        return sum(plan.estimated_bytes for plan in self.schedules)

    def as_output(self) -> dict:
        """The stack output `backupPlan`."""
        return {
            "schedules": [
                {
                    "name": plan.name,
                    "cron": plan.cron,
                    "paused": plan.paused,
                    "rpoMinutes": plan.rpo_minutes,
                    "retentionHours": plan.retention_hours,
                    "keptBackups": plan.kept_backups,
                    "services": list(plan.services),
                    "estimatedGiB": round(plan.estimated_bytes / GIB, 2),
                }
                for plan in self.schedules
            ],
            "totals": {
                "keptBackups": self.total_kept_backups,
                "estimatedGiB": round(self.total_estimated_bytes / GIB, 2),
            },
            "warnings": list(self.warnings),
        }


def _scope(schedule: Schedule, services: dict[str, Service]) -> tuple[str, ...]:
    """The services whose volume data a schedule carries."""
    if not schedule.volume_data:
        return ()
    names = schedule.services or tuple(services)
    return tuple(name for name in names if services[name].data_size)


def _estimate(schedule: Schedule, kept: int, scope: tuple[str, ...], services: dict[str, Service]) -> int:
    if kept == 0:
        return 0
    days_between = schedule.ttl_seconds / 86400 / kept
    total = 0.0
    for name in scope:
        size = quantity_bytes(services[name].data_size)
        total += size * (1 + kept * min(1.0, services[name].daily_change * days_between))
    return round(total)


def backup_plan(catalogue: Catalogue) -> BackupPlan:
    services = {service.name: service for service in catalogue.services}
    plans = []
    for schedule in catalogue.schedules:
        scope = _scope(schedule, services)
        kept = 0 if schedule.paused else parse_cron(schedule.cron).runs_in(schedule.ttl_seconds / 60)
        plans.append(
            SchedulePlan(
                name=schedule.name,
                cron=schedule.cron,
                paused=schedule.paused,
                rpo_minutes=None if schedule.paused else schedule.longest_gap_minutes,
                retention_hours=schedule.ttl_seconds / 3600,
                kept_backups=kept,
                services=scope,
                estimated_bytes=_estimate(schedule, kept, scope, services),
            )
        )
    return BackupPlan(tuple(plans), tuple(_same_minute_warnings(plans)))


def _same_minute_warnings(plans: list[SchedulePlan]) -> list[str]:
    """Two schedules copying the same volume data in the same minute double the load for nothing."""
    warnings = []
    for first, second in itertools.combinations([plan for plan in plans if not plan.paused], 2):
        shared = [service for service in first.services if service in second.services]
        if shared and parse_cron(first.cron).shares_a_minute_with(parse_cron(second.cron)):
            warnings.append(
                f"{first.name} ({first.cron}) and {second.name} ({second.cron}) both back up "
                f"{', '.join(shared)} in the same minute: stagger one of them"
            )
    return warnings
