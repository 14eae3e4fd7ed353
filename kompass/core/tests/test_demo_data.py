"""The ``demo-data`` command: a realistic municipality, loaded idempotently and deterministically."""

import io
from collections import Counter

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.test import RequestFactory, override_settings

from kompass.core import demo
from kompass.core.models import Agency, Organisation, RoleAssignment, Service, System, User, _valid_organisation_number
from kompass.core.roles import AGENCY_SCOPED_ROLES, Role

pytestmark = pytest.mark.django_db

SEED = 2026


def run(**options) -> str:
    out = io.StringIO()
    call_command("demo_data", seed=options.pop("seed", SEED), stdout=out, **options)
    return out.getvalue()


def snapshot() -> dict:
    """Every demo row by natural key, with its primary key."""
    return {
        "agencies": dict(Agency.objects.values_list("short_code", "pk")),
        "services": dict(Service.objects.values_list("name", "pk")),
        "users": dict(User.objects.values_list("email", "pk")),
        "roles": sorted(RoleAssignment.objects.values_list("pk", "user_id", "role", "agency_id")),
        "systems": sorted(System.objects.values_list("pk", "agency_id", "name", "system_owner_id", "criticality")),
        "agency services": sorted(Agency.services.through.objects.values_list("pk", "agency_id", "service_id")),
        "system services": sorted(System.services.through.objects.values_list("pk", "system_id", "service_id")),
        "passwords": dict(User.objects.values_list("email", "password")),
    }


def test_second_run_changes_nothing():
    run()
    before = snapshot()
    output = run()
    assert snapshot() == before
    assert "Nothing changed" in output


def test_same_seed_gives_the_same_data():
    assert demo.build_plan(SEED).digest() == demo.build_plan(SEED).digest()
    assert demo.build_plan(SEED).digest() != demo.build_plan(SEED + 1).digest()
    run()
    first = demo.database_digest()
    assert first == demo.build_plan(SEED).digest()
    # Empty the database and load again: the same data, row for row. Other apps' demo rows (cases) point at
    # core's, so they go first.
    # Protected links between them (a contract's milestones) decide the order, so delete in passes.
    others = [m for m in apps.get_models() if m.__module__.startswith("kompass.") and m._meta.app_label != "core"]
    for _attempt in range(len(others)):
        blocked = []
        for model in others:
            try:
                model._base_manager.all().delete()
            except (ProtectedError, RestrictedError):
                blocked.append(model)
        others = blocked
        if not others:
            break
    assert not others, f"demo rows that cannot be deleted: {others}"
    System.objects.all().delete()
    RoleAssignment.objects.all().delete()
    User.objects.all().delete()
    Agency.objects.all().delete()
    Service.objects.all().delete()
    run()
    assert demo.database_digest() == first


def test_password_option_and_environment(monkeypatch):
    request = RequestFactory().post("/")
    run(password="annet-passord")
    assert authenticate(request=request, username="kam@kommune.example", password="annet-passord")
    monkeypatch.setenv("KOMPASS_DEMO_PASSWORD", "fra-miljoet")
    output = run(quiet=True)
    assert authenticate(request=request, username="kam@kommune.example", password="fra-miljoet")
    assert not authenticate(request=request, username="kam@kommune.example", password="annet-passord")
    # --quiet prints the logins and nothing else.
    assert output.startswith("Demo logins:")
    assert "fra-miljoet" in output and "admin.helse@kommune.example" in output


def test_output_lists_counts_and_logins():
    output = run(organisation="Testby kommune")
    assert "agencies" in output and "systems" in output
    for login in demo.DEMO_LOGINS:
        assert login.email in output
    assert "Helseetaten" in output
    assert Organisation.objects.get().name == "Testby kommune"


def test_refuses_production_without_explicit_flag(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        run()
    assert not Agency.objects.exists()


class TestOneLoad:
    """The tests that only read the loaded demo (or change it inside their own savepoint) share one load:
    each load is every app's demo (a year of cases, surveys, the portfolio) and cost ~10 s of CI per test."""

    @pytest.fixture(scope="class")
    def loaded(self, django_db_setup, django_db_blocker):
        # The same fast hasher as every test (the autouse fixture is per test, this load is per class).
        hashers = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
        with django_db_blocker.unblock(), hashers, transaction.atomic():
            run()
            yield
            transaction.set_rollback(True)

    def test_counts(self, loaded):
        assert Agency.objects.count() == 50
        kinds = Counter(Agency.objects.values_list("kind", flat=True))
        assert kinds[Agency.Kind.DISTRICT] == 15
        assert kinds[Agency.Kind.DEPARTMENT] > 15 and kinds[Agency.Kind.COMPANY] >= 5
        assert Agency.objects.get(short_code="BGRU").name == "Bydel Grünerløkka"
        assert 9 <= Service.objects.count() <= 12
        assert 550 <= System.objects.count() <= 650
        assert 250 <= User.objects.count() <= 350
        # Big departments run more systems than small bodies.
        per_agency = Counter(System.objects.values_list("agency__short_code", flat=True))
        assert per_agency["UDE"] > per_agency["BGRU"] > per_agency["ELDO"]
        criticality = Counter(System.objects.values_list("criticality", flat=True))
        total = sum(criticality.values())
        assert 0.04 < criticality["critical"] / total < 0.13
        assert 0.35 < criticality["medium"] / total < 0.55
        org = Organisation.objects.get()
        assert org.it_agency_name == demo.IT_AGENCY_NAME

    def test_every_agency_has_every_agency_role(self, loaded):
        for agency in Agency.objects.all():
            held = Counter(agency.role_assignments.values_list("role", flat=True))
            assert set(held) == set(AGENCY_SCOPED_ROLES), agency
            assert 1 <= held[Role.AGENCY_IT_CONTACT] <= 2
            assert 2 <= held[Role.SYSTEM_OWNER] <= 5
            assert held[Role.AGENCY_ADMIN] == 1
            assert held[Role.KEY_ACCOUNT_MANAGER] == 1
            assert agency.services.exists()
        kams = Counter(RoleAssignment.objects.filter(role=Role.KEY_ACCOUNT_MANAGER).values_list("user", flat=True))
        assert len(kams) == 8
        assert all(5 <= n <= 7 for n in kams.values())
        global_roles = Counter(RoleAssignment.objects.filter(agency=None).values_list("role", flat=True))
        assert global_roles == {
            Role.AGREEMENT_MANAGER: 3,
            Role.SERVICE_DESK_AGENT: 4,
            Role.VENDOR_INTEGRATION: 1,
            Role.VENDOR_REPRESENTATIVE: 1,
            Role.ADMINISTRATOR: 1,
        }

    def test_system_owners_belong_to_the_systems_agency(self, loaded):
        owners = set(RoleAssignment.objects.filter(role=Role.SYSTEM_OWNER).values_list("user_id", "agency_id"))
        systems = System.objects.values_list("system_owner_id", "agency_id")
        assert all(pair in owners for pair in systems)
        # Every system owner owns at least one system, and systems only run on services their agency takes.
        assert owners == set(systems)
        for system in System.objects.prefetch_related("services", "agency__services")[:100]:
            assert set(system.services.all()) <= set(system.agency.services.all())

    def test_organisation_numbers_pass_mod11(self, loaded):
        numbers = list(Agency.objects.values_list("organisation_number", flat=True))
        assert len(set(numbers)) == 50
        assert all(_valid_organisation_number(n) for n in numbers)
        for agency in Agency.objects.all():
            agency.full_clean()  # short codes, org numbers and every other validator

    def test_contacts_have_demo_addresses_and_unusable_passwords(self, loaded):
        logins = {login.email for login in demo.DEMO_LOGINS}
        for user in User.objects.all():
            assert user.email.endswith("@kommune.example")
            assert user.email == user.email.lower()
            assert user.has_usable_password() == (user.email in logins), user.email

    def test_edits_survive_a_rerun_unless_restored(self, loaded):
        system = System.objects.filter(agency__short_code="UDE").order_by("name").first()
        original = system.criticality
        system.criticality = "low" if original != "low" else "high"
        system.save()
        run()
        system.refresh_from_db()
        assert system.criticality != original
        run(restore=True)
        system.refresh_from_db()
        assert system.criticality == original

    def test_demo_logins_authenticate(self, loaded):
        request = RequestFactory().post("/")
        for login in demo.DEMO_LOGINS:
            user = authenticate(request=request, username=login.email, password=demo.DEFAULT_PASSWORD)
            assert user is not None and user.email == login.email
            roles = set(user.role_assignments.values_list("role", flat=True))
            assert roles == ({login.role} if login.role else set())
            assert (user.home_agency.short_code if user.home_agency else None) == login.home_agency
            codes = set(user.role_assignments.exclude(agency=None).values_list("agency__short_code", flat=True))
            assert codes == set(login.agency_codes)
        admin = User.objects.get(email="admin@kommune.example")
        assert admin.is_superuser and admin.is_staff
        assert not User.objects.filter(is_superuser=True).exclude(pk=admin.pk).exists()
        kam = set(
            RoleAssignment.objects.filter(user__email="kam@kommune.example").values_list("agency__kind", flat=True)
        )
        assert Agency.Kind.DISTRICT in kam
        assert User.objects.get(email="systemeier.ute@kommune.example").owned_systems.filter(agency__short_code="UDE")

    def test_requester_demo_login_sees_only_own_records(self, loaded, client):
        """The agency employee signs in, has no role, and reaches no agency's data (only their own cases)."""
        response = client.post(
            "/login/", {"username": "ansatt.grunerlokka@kommune.example", "password": demo.DEFAULT_PASSWORD}
        )
        assert response.status_code == 302
        assert client.get("/").status_code == 200
        for url in ("/agencies/", "/systems/", "/services/", "/api/agencies/"):
            assert client.get(url).status_code == 403, url
