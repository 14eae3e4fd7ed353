"""The cases app's signals, for other apps (the vendor sync) to hook into.

``case_changed(sender=Case, case=..., change=CaseChange, origin=Origin)`` is sent by every function of
:mod:`kompass.cases.services` **inside the transaction of the change**: a receiver that writes its own rows
(an outbox message) commits or rolls back with the change, and ``origin`` tells it whether the change is
its own (``origin.kind == "vendor"`` and its link), so it can avoid echoing it back.
"""

from django.dispatch import Signal

case_changed = Signal()
