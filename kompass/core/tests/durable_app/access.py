"""The test app's rows of the access matrix: its tables are internal (administrators only)."""

from kompass.core import access
from kompass.core.tests.durable_app.models import Chore, ChoreEffect, Tick

for model in (Chore, ChoreEffect, Tick):
    access.register_internal(model)
