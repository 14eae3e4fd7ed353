"""A test-only app with a concrete ``DurableWork`` model, installed only under pytest or ``KOMPASS_ENV=test``.

Core ships the abstract model and the machinery; the real models (notification ledger, vendor outbox) live
in their apps. This app gives the tests a table, a migration and a registered processor to drive, in this
process and in worker subprocesses alike.
"""
