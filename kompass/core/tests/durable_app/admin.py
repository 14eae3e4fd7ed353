from django.contrib import admin

from kompass.core.admin import retry_dead_rows
from kompass.core.tests.durable_app.models import Chore


@admin.register(Chore)
class ChoreAdmin(admin.ModelAdmin):
    list_display = ["pk", "payload", "state", "attempts", "next_attempt_at", "last_error"]
    actions = [retry_dead_rows]
