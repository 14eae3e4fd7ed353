"""The glue between a :class:`~kompass.cases.models.Case` and the pure SLA engine (:mod:`kompass.cases.sla`).

A case stores each clock's events (``Clock.to_dict()``) and the status fields the queue filters on; this module
applies events and refreshes those fields. The service functions call it; nothing else writes SLA fields.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from kompass.cases.sla import DEFAULT_MATRIX, DEFAULT_PROFILE, Clock, ClockKind, ClockState, priority_for

__all__ = ["PROFILES", "compute_priority", "priority_matrix", "refresh", "start_clocks", "update_clock"]

#: Profiles by name; a clock stores its profile's name. New bilag 5 levels go in under a new name.
PROFILES = {DEFAULT_PROFILE.name: DEFAULT_PROFILE}


def profile_for(case):
    """The SLA profile of a case (one per contract for now; per service when services carry one)."""
    return DEFAULT_PROFILE


def priority_matrix() -> dict[tuple[int, int], int]:
    """The configured impact × urgency matrix (``KOMPASS_CASES_PRIORITY_MATRIX``, "11=1,12=2,…")."""
    spec = settings.KOMPASS_CASES_PRIORITY_MATRIX.strip()
    if not spec:
        return dict(DEFAULT_MATRIX)
    matrix = {}
    for pair in spec.split(","):
        key, _sep, value = pair.strip().partition("=")
        if len(key) != 2 or not key.isdigit() or not value.isdigit():
            raise ValueError(f"KOMPASS_CASES_PRIORITY_MATRIX: {pair!r} is not like 12=2")
        matrix[(int(key[0]), int(key[1]))] = int(value)
    return matrix


def compute_priority(impact: int, urgency: int) -> int:
    return priority_for(impact, urgency, priority_matrix())


def _clock(case, kind: ClockKind) -> Clock:
    data = case.sla_response if kind is ClockKind.RESPONSE else case.sla_resolution
    return Clock.from_dict(data, PROFILES)


def _store(case, kind: ClockKind, clock: Clock) -> None:
    if kind is ClockKind.RESPONSE:
        case.sla_response = clock.to_dict()
    else:
        case.sla_resolution = clock.to_dict()


def start_clocks(case, at: datetime) -> None:
    """Start both clocks of a new case (or a fresh resolution clock of a reopened one)."""
    profile = profile_for(case)
    case.sla_response = Clock(ClockKind.RESPONSE, profile).start(at, case.priority).to_dict()
    case.sla_resolution = Clock(ClockKind.RESOLUTION, profile).start(at, case.priority).to_dict()


def restart_resolution(case, at: datetime) -> None:
    """A reopened case: keep the finished resolution clock in the history and start a new one."""
    if case.sla_resolution:
        case.sla_history = [*case.sla_history, case.sla_resolution]
    case.sla_resolution = Clock(ClockKind.RESOLUTION, profile_for(case)).start(at, case.priority).to_dict()


def is_running(case, kind: ClockKind) -> bool:
    data = case.sla_response if kind is ClockKind.RESPONSE else case.sla_resolution
    events = data.get("events") or []
    return bool(events) and events[-1]["type"] != "stop"


def update_clock(case, kind: ClockKind, event: str, at: datetime, **kwargs) -> None:
    """Apply ``event`` ("pause", "resume", "stop", "priority_change") to one clock if it is still running."""
    if not is_running(case, kind):
        return
    clock = _clock(case, kind)
    paused = clock.status(at).state is ClockState.PAUSED
    if (event == "pause" and paused) or (event == "resume" and not paused):
        return
    if event == "stop" and paused:
        clock = clock.resume(at)
    _store(case, kind, getattr(clock, event)(at, **kwargs))


_ORDER = {
    "breached": 0,
    "warning": 1,
    "ok": 2,
    "paused": 3,
    "met": 4,
    "stopped": 5,
}


def refresh(case, now: datetime) -> list[str]:
    """Recompute the stored SLA fields at ``now``; return the flags that newly turned on.

    The flags are ``"resolution_warning"``, ``"resolution_breached"`` and ``"response_breached"`` (for the
    agents' notifications).
    """
    turned_on = []
    response = _clock(case, ClockKind.RESPONSE).status(now) if case.sla_response else None
    resolution = _clock(case, ClockKind.RESOLUTION).status(now) if case.sla_resolution else None
    states = []
    next_checks = []
    if response is not None:
        if response.breached and not case.response_breached:
            turned_on.append("response_breached")
        case.response_due = response.due_at or response.projected_due_at
        case.response_breached = response.breached
        case.response_breached_at = response.breached_at
        states.append(_state(response))
        next_checks.append(response.next_change_at)
    if resolution is not None:
        if resolution.warning and not case.resolution_warning and not resolution.breached:
            turned_on.append("resolution_warning")
        if resolution.breached and not case.resolution_breached:
            turned_on.append("resolution_breached")
        case.resolution_due = resolution.due_at or resolution.projected_due_at
        case.resolution_warning = resolution.warning
        case.resolution_breached = resolution.breached
        case.resolution_breached_at = resolution.breached_at
        states.append(_state(resolution))
        next_checks.append(resolution.next_change_at)
    open_states = [s for s in states if s not in ("met", "stopped")]
    case.sla_state = min(open_states or states or ["ok"], key=_ORDER.__getitem__)
    upcoming = [t for t in next_checks if t is not None]
    case.sla_next_check = min(upcoming) if upcoming else None
    return turned_on


def _state(status) -> str:
    if status.state is ClockState.RUNNING:
        return "breached" if status.breached else "warning" if status.warning else "ok"
    if status.state is ClockState.PAUSED:
        return "breached" if status.breached else "paused"
    return str(status.state.value)
