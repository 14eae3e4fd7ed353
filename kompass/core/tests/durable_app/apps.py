from django.apps import AppConfig


class DurableTestConfig(AppConfig):
    name = "kompass.core.tests.durable_app"
    label = "durable_test"
    default_auto_field = "django.db.models.BigAutoField"
