import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kompass.settings")
application = get_wsgi_application()


def warm_up() -> None:
    """Load what Django otherwise loads in a process's first request: the URLconf with every view and API module
    it names (~350 ms on a 2-core machine) and the template engines. gunicorn imports this module in each worker
    as it boots, so the first request after a restart, often a vendor's webhook, does not wait for it."""
    from django.template import engines
    from django.urls import reverse

    reverse("core:healthz")
    engines.all()


warm_up()
