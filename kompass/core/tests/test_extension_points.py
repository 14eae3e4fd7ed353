"""The access matrix's own behaviour, the system check, and how apps plug in without editing core."""

import re
from pathlib import Path
from unittest import mock

import pytest
from django.apps import apps
from django.core import checks
from django.test import RequestFactory
from django.urls import reverse

from kompass.core import access, navigation
from kompass.core.access import AGENCY, ALL, own
from kompass.core.models import Agency, RoleAssignment, Service, System, User
from kompass.core.roles import Role
from kompass.testing.matrix import check_access_table

pytestmark = pytest.mark.django_db

CORE = Path(__file__).resolve().parents[1]


def test_each_role_acts_on_its_own_agencies_only(agencies):
    """IT contact for alfa and agency administrator for beta: changes beta's systems, not alfa's."""
    user = User.objects.create_user("mixed@test.example", "x", full_name="Mixed")
    RoleAssignment.objects.create(user=user, role=Role.AGENCY_IT_CONTACT, agency=agencies["alfa"])
    RoleAssignment.objects.create(user=user, role=Role.AGENCY_ADMIN, agency=agencies["beta"])
    alfa = System.objects.create(name="A", agency=agencies["alfa"])
    beta = System.objects.create(name="B", agency=agencies["beta"])
    assert set(System.objects.restrict(user, "view")) == {alfa, beta}
    assert list(System.objects.restrict(user, "change")) == [beta]
    assert not access.can(user, "change", alfa)
    assert access.can(user, "change", beta)
    assert access.can(user, "create", System(agency=agencies["beta"]))
    assert not access.can(user, "create", System(agency=agencies["alfa"]))
    assert list(access.agencies_for(user, "create", System)) == [agencies["beta"]]


def test_unregistered_model_is_for_administrators_only(cast):
    with mock.patch.dict(access._policies, clear=False) as policies:
        del policies[Service]
        assert not access.can(cast["agreement"], "view", Service)
        assert access.can(cast["admin"], "view", Service)
        assert not Service.objects.restrict(cast["agreement"]).exists()
        errors = [e for e in access.check_every_domain_model_has_a_policy() if e.id == "kompass.E001"]
        assert [e.obj for e in errors] == [Service]
    assert access.check_every_domain_model_has_a_policy() == []


def test_register_refuses_unknown_actions_and_roles():
    with pytest.raises(ValueError, match="unknown action"):
        access.register(Service, rules={"veiw": {Role.AGREEMENT_MANAGER: ALL}})
    with pytest.raises(ValueError, match="unknown role"):
        access.register(Service, rules={"view": {"boss": ALL}})
    with pytest.raises(ValueError, match="holds no agency"):
        access.register(Service, rules={"view": {Role.SERVICE_DESK_AGENT: AGENCY}})
    assert access.policy_for(Service).scope("create", Role.AGREEMENT_MANAGER) == ALL  # untouched


def test_own_scope_reaches_the_users_own_records(cast, agencies):
    """A requester (home agency, no roles) reaches records whose field is them."""
    saved = access.policy_for(System)
    access.register(System, rules={"view": {access.REQUESTER: own("system_owner")}})
    try:
        mine = System.objects.create(name="Mine", agency=agencies["alfa"], system_owner=cast["requester"])
        System.objects.create(name="Not mine", agency=agencies["alfa"], system_owner=cast["owner"])
        assert list(System.objects.restrict(cast["requester"])) == [mine]
        assert access.can(cast["requester"], "view", mine)
        assert not System.objects.restrict(cast["noroles"]).exists()  # no home agency: not a requester
    finally:
        access._policies[System] = saved


def test_removing_a_rule_makes_the_table_fail(clients, cast, agencies):
    """Meta-test: the role × URL table notices when one cell of the matrix is taken away."""
    service = Service.objects.get()
    table = {
        ("agreement", "POST", "/api/services/"): 201,
        ("agreement", "PATCH", f"/api/services/{service.pk}/"): 200,
    }
    data = {"/api/services/": {"name": "Ny", "delivery": "internal"}, f"/api/services/{service.pk}/": {"name": "Y"}}
    check_access_table(clients, table, data=data)
    policy = access.policy_for(Service)
    for action in ("create", "change"):
        rules = {**policy.rules, action: {}}
        with mock.patch.object(policy, "rules", rules), pytest.raises(AssertionError, match="expected 20"):
            check_access_table(clients, table, data=data)


def test_menu_comes_from_the_apps_registries(cast):
    request = RequestFactory().get("/vendors/1/")
    request.user = cast["agreement"]
    items = navigation.items_for(request)
    urls = [item["url"] for item in items]
    assert reverse("vendors:connection_list") in urls  # declared in kompass/vendors/navigation.py
    assert [item["url"] for item in items if item["current"]] == [reverse("vendors:connection_list")]
    request.user = cast["desk"]
    assert reverse("vendors:connection_list") not in [item["url"] for item in navigation.items_for(request)]
    request.user = cast["vendor"]
    assert navigation.items_for(request) == []


def test_core_templates_name_no_other_apps_urls():
    other_apps = {c.label for c in apps.get_app_configs() if c.name.startswith("kompass.") and c.label != "core"}
    pattern = re.compile(r"""\{%\s*url\s+["']([a-z_]+):""")
    offenders = []
    for template in (CORE / "templates").rglob("*.html"):
        for namespace in pattern.findall(template.read_text()):
            if namespace in other_apps:
                offenders.append(f"{template.relative_to(CORE)}: {namespace}")
    assert offenders == []


def test_vendors_plugs_in_through_its_own_modules():
    vendors = Path(apps.get_app_config("vendors").path)
    for module in ("access.py", "audit.py", "demo.py", "navigation.py", "api/urls.py"):
        assert (vendors / module).exists(), module
    assert "vendors" not in (CORE / "templates" / "base.html").read_text()
    assert "ready" not in (vendors / "apps.py").read_text()
    assert access.policy_for(apps.get_model("vendors", "VendorConnection")) is not None
    from auditlog.registry import auditlog

    assert auditlog.contains(apps.get_model("vendors", "VendorConnection"))


def test_system_check_passes_for_the_project():
    assert [m for m in checks.run_checks() if m.id and m.id.startswith("kompass.")] == []


def test_agency_choice_and_people_picker_are_limited(cast, agencies, systems):
    from kompass.core.forms import SystemForm

    form = SystemForm(instance=systems["alfa"], user=cast["agency_admin"])
    assert list(form.fields["agency"].queryset) == [agencies["alfa"]]
    people = set(form.fields["system_owner"].queryset.values_list("email", flat=True))
    assert "owner@test.example" in people
    assert "desk@test.example" not in people  # no agency in common
    assert Agency.objects.count() == 3


def test_my_settings_store_language_and_notification_choices(client, cast):
    from kompass.core import notifications

    event = notifications.declare("test.resolved", "A case of mine is resolved", channels=("email", "portal"))
    try:
        user = cast["requester"]
        client.force_login(user)
        assert notifications.wants(user, "test.resolved", "email")  # the default
        response = client.post(reverse("core:my_settings"), {"language": "en", "notify__test.resolved__portal": "on"})
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.language == "en"
        assert not notifications.wants(user, "test.resolved", "email")
        assert notifications.wants(user, "test.resolved", "portal")
        assert response.cookies["django_language"].value == "en"
    finally:
        notifications._events.pop(event.key)


def test_api_system_owner_must_be_someone_the_user_sees(client, cast, systems):
    client.force_login(cast["agency_admin"])
    url = f"/api/systems/{systems['alfa'].pk}/"
    response = client.patch(url, {"system_owner": cast["desk"].pk}, content_type="application/json")
    assert response.status_code == 400
    assert "system_owner" in response.json()
    response = client.patch(url, {"system_owner": cast["it_contact"].pk}, content_type="application/json")
    assert response.status_code == 200


def test_every_domain_app_is_named_in_the_import_contracts():
    """A new app under kompass/ must join the contracts, or core could import it unnoticed."""
    import tomllib

    root = Path(__file__).resolve().parents[3]
    contracts = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    by_name = {contract["name"]: contract for contract in contracts}
    not_domain = {"core", "testing", "locale"}
    domain_apps = {
        f"kompass.{path.name}"
        for path in (root / "kompass").iterdir()
        if path.is_dir() and (path / "__init__.py").exists() and path.name not in not_domain
    }
    assert domain_apps, "no domain app found"
    assert set(by_name["core knows no domain app"]["forbidden_modules"]) == domain_apps
    assert set(by_name["apps reach siblings only through services and signals"]["modules"]) == domain_apps
