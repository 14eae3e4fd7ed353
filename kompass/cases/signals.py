"""The cases app's signals, for other apps (the vendor sync) to hook into.

``case_changed(sender=Case, case=..., change=CaseChange, origin=Origin)`` is sent by every function of
:mod:`kompass.cases.services` **inside the transaction of the change**: a receiver that writes its own rows
(an outbox message) commits or rolls back with the change, and ``origin`` tells it whether the change is
its own (``origin.kind == "vendor"`` and its link), so it can avoid echoing it back.

``intake_message(sender=IntakeRecord, message=InboundMessage)`` is sent by the e-mail intake
(:class:`kompass.cases.mail.IntakeHandler`) for every message **before** it is read as a requester's reply or a
new case, inside the transaction that records the message: a receiver that recognises the message as its own
(e.g. a vendor's reply to the e-mail bonding, ``kompass.vendors.transports.email``) handles it and returns the
case number it belongs to; the intake then records it as done and reads it no further. Receivers that do not
recognise it return ``None``.
"""

from django.dispatch import Signal

case_changed = Signal()
intake_message = Signal()
