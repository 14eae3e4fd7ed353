"""The notifications app: channels (e-mail, portal), templates, preferences and the delivery ledger.

Every app that tells a person something (cases, surveys, reports, vendor alerts) sends through
:func:`kompass.notifications.services.send`; see ``docs/notifications.md``.
"""
