"""Weekly schedules ("Mon-Fri 07:00-19:00") as lists and list entries carry them: parsed, checked and
evaluated in a site's time zone. Pure: no database, no clock (the caller passes the moment).

A schedule is a list of windows `{"days": [0..6] (Monday = 0), "start": "HH:MM", "end": "HH:MM"}`;
an end at or before the start runs past midnight into the next day. An empty schedule is always open.
Local times are read through `zoneinfo`, so a window keeps its wall-clock hours across DST changes.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    """Not a schedule (the message says why, for the person who wrote it)."""


def _days(value) -> list[int]:
    if isinstance(value, str):  # "mon-fri", "sat,sun"
        out: list[int] = []
        for part in value.lower().replace(" ", "").split(","):
            a, _sep, b = part.partition("-")
            if a not in DAY_NAMES or (b and b not in DAY_NAMES):
                raise ScheduleError(_("Days are mon, tue, wed, thu, fri, sat, sun (e.g. mon-fri)."))
            i, j = DAY_NAMES.index(a), DAY_NAMES.index(b or a)
            out.extend(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        return sorted(set(out))
    if isinstance(value, list) and value and all(isinstance(d, int) and 0 <= d <= 6 for d in value):
        return sorted(set(value))
    raise ScheduleError(_("Days are a list of 0 (Monday) to 6 (Sunday), or names like mon-fri."))


def _time(value) -> str:
    if not isinstance(value, str) or not _TIME.match(value):
        raise ScheduleError(_("Times are HH:MM, 00:00 to 23:59."))
    return value


def clean_schedule(value) -> list[dict]:
    """The schedule in its stored form (days as numbers), or ScheduleError saying what is wrong."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ScheduleError(_("A schedule is a list of windows."))
    out = []
    for window in value:
        if not isinstance(window, dict):
            raise ScheduleError(_("A window is {days, start, end}."))
        start, end = _time(window.get("start")), _time(window.get("end"))
        if start == end:
            raise ScheduleError(_("A window's end must differ from its start."))
        out.append({"days": _days(window.get("days")), "start": start, "end": end})
    return out


def _at(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def is_open(schedule: list[dict], moment: datetime, zone: ZoneInfo) -> bool:
    """Whether the schedule is open at `moment` (aware) read as wall-clock time in `zone`."""
    if not schedule:
        return True
    local = moment.astimezone(zone)
    day, now = local.weekday(), local.time().replace(tzinfo=None)
    yesterday = (day - 1) % 7
    for window in schedule:
        start, end = _at(window["start"]), _at(window["end"])
        if start < end:
            if day in window["days"] and start <= now < end:
                return True
        elif (day in window["days"] and now >= start) or (yesterday in window["days"] and now < end):
            return True  # past midnight
    return False


def describe(schedule: list[dict]) -> str:
    """ "mon-fri 07:00-19:00; sat 08:00-12:00" for pages and exports."""
    parts = []
    for w in schedule:
        days = w["days"]
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            names = f"{DAY_NAMES[days[0]]}-{DAY_NAMES[days[-1]]}"
        else:
            names = ",".join(DAY_NAMES[d] for d in days)
        parts.append(f"{names} {w['start']}-{w['end']}")
    return "; ".join(parts)


def next_boundary(schedule: list[dict], moment: datetime, zone: ZoneInfo, horizon: timedelta) -> datetime | None:
    """The first minute after `moment` (within `horizon`) at which the schedule opens or closes."""
    state = is_open(schedule, moment, zone)
    step = moment.replace(second=0, microsecond=0)
    end = moment + horizon
    while step < end:
        step += timedelta(minutes=1)
        if is_open(schedule, step, zone) != state:
            return step
    return None
