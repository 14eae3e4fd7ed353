"""Signals other apps listen to, so core never imports a sibling app."""

from django.dispatch import Signal

#: Sent by ``kompass demo-data`` after the core demo data is in place (kwargs: ``seed``).
#: Each app adds its own demo rows in a receiver; receivers must be idempotent.
demo_data_loaded = Signal()
