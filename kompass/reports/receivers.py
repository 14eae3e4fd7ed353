"""When this app's own inputs of a contract's figures change, its stored scorecard figures are computed anew before
they are shown again (:func:`kompass.reports.services.inputs_changed`). Connected in ``ReportsConfig.ready``."""

from django.db.models.signals import post_delete, post_save

from kompass.reports.models import (
    Adjustment,
    AvailabilityLevel,
    CaseLevel,
    Exclusion,
    LevelVersion,
    Outage,
    Statement,
    StatementLine,
)


def _contract_id(instance):
    if isinstance(instance, LevelVersion | Outage | Exclusion | Statement):
        return instance.contract_id
    if isinstance(instance, CaseLevel | AvailabilityLevel):
        return LevelVersion.objects.filter(pk=instance.version_id).values_list("contract_id", flat=True).first()
    if isinstance(instance, StatementLine | Adjustment):
        return Statement.objects.filter(pk=instance.statement_id).values_list("contract_id", flat=True).first()
    return None


def _changed(sender, instance, **kwargs) -> None:
    from kompass.reports import services

    services.inputs_changed(_contract_id(instance))


def connect() -> None:
    for model in (LevelVersion, CaseLevel, AvailabilityLevel, Outage, Exclusion, Statement, StatementLine, Adjustment):
        post_save.connect(_changed, sender=model, dispatch_uid=f"reports.inputs.save.{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"reports.inputs.delete.{model.__name__}")
