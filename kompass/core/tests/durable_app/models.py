from django.db import models

from kompass.core.durable import DurableWork


class Chore(DurableWork):
    """A unit of test work; ``payload`` tells the handler what to do ("ok", "fail", "block")."""

    retry_base_seconds = 10
    retry_cap_seconds = 300
    lease_seconds = 60

    payload = models.CharField(max_length=50, default="ok")

    def __str__(self) -> str:
        return f"chore {self.pk} ({self.payload}, {self.state})"


class ChoreEffect(models.Model):
    """One completed side effect of the handler: counting them proves exactly-once completion."""

    chore = models.ForeignKey(Chore, on_delete=models.CASCADE, related_name="effects")
    worker = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"effect of chore {self.chore_id} by {self.worker}"


class Tick(models.Model):
    """One run of the test app's scheduled job, by the scheduler process ``pid``."""

    pid = models.IntegerField()
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"tick by {self.pid} at {self.at:%H:%M:%S.%f}"
