"""Scheduled jobs of the simulated instance (a real instance's ``sysauto`` scheduled jobs).

:class:`AutoCloseJob` is the "Autoclose Incidents" job: every ``interval_s`` it closes incidents that
have been Resolved for longer than ``after_s`` (``Store.autoclose``). The updates are made by the
user ``system`` and go through the store like any other write, so they fire the outbound webhook.
"""

from __future__ import annotations

import logging
import threading

from .store import Store

__all__ = ["AutoCloseJob"]

log = logging.getLogger("snowsim.jobs")


class AutoCloseJob:
    def __init__(self, store: Store, after_s: float, interval_s: float = 5.0, user: str = "system") -> None:
        self.store = store
        self.after_s = float(after_s)
        self.interval_s = max(0.05, float(interval_s))
        self.user = user
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.closed = 0

    def run_once(self) -> list[str]:
        if self.after_s <= 0:
            return []
        try:
            ids = self.store.autoclose(self.after_s, user=self.user)
        except Exception:  # noqa: BLE001 - a failing run must not stop the schedule
            log.exception("auto-close run failed")
            return []
        self.closed += len(ids)
        if ids:
            log.info("auto-closed %d incident(s)", len(ids))
        return ids

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()

    def start(self) -> AutoCloseJob:
        if self.after_s > 0 and not (self._thread and self._thread.is_alive()):
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="snowsim-autoclose", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
