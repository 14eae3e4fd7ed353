"""Keep the denormalised ``Integration.agencies`` right when a core ``System`` changes agency."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from kompass.core.models import System


@receiver(post_save, sender=System, dispatch_uid="portfolio_system_agency_sync")
def resync_integrations_of_system(sender, instance: System, created: bool, raw: bool = False, **kwargs) -> None:
    if created or raw:
        return
    from kompass.portfolio.models import Integration
    from kompass.portfolio.services import sync_agencies

    for integration in Integration.objects.filter(provider_system=instance) | Integration.objects.filter(
        consumer_system=instance
    ):
        sync_agencies(integration)
