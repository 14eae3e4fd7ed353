"""Every cast role × every page and API endpoint × every method, against a hand-written table.

The tables below are written out by hand from docs/access.md; they never read the matrix they check.
``check_access_table`` runs each row with a session client (and, under /api/, a token client), and a
refused write must leave every Kompass row and the audit log unchanged.

How to read a row: ``expect(ok, allowed, hidden=...)`` gives ``ok`` to the roles in ``allowed``, 404 to
those in ``hidden`` (they may see the model but not this object), and 403 to everyone else signed in.
The vendor integration account never has a session (302 to the login page, 401 from the API) and its
token reaches no core endpoint (403).
"""

import pytest

from kompass.core.models import Agency, ApiToken, Organisation, RoleAssignment, Service, System, User
from kompass.testing.cast import CAST
from kompass.testing.matrix import access_tables, assert_every_rule_is_tested, check_access_table

pytestmark = pytest.mark.django_db

TABLES = []
access_table = access_tables(TABLES)

ADMIN = {"admin"}
CENTRAL = {"admin", "agreement"}
SEES_EVERY_AGENCY = {"admin", "agreement", "desk"}
SEES_ALFA = SEES_EVERY_AGENCY | {"kam", "it_contact", "owner", "agency_admin"}
CHANGES_ALFA = CENTRAL | {"agency_admin"}
SIGNED_IN = set(CAST) - {"vendor"}


def expect(ok, allowed, *, hidden=(), api=False):
    """The status of every cast member for one request (see the module docstring)."""
    statuses = {}
    for key in CAST:
        if key == "vendor":
            statuses[key] = {"session": 401, "token": 403} if api else 302
        elif key in allowed:
            statuses[key] = ok
        elif key in hidden:
            statuses[key] = 404
        else:
            statuses[key] = 403
    return statuses


def table(*rows):
    """``(method, url, statuses)`` rows as ``{(role, method, url): status}``."""
    return {(role, method, url): status for method, url, statuses in rows for role, status in statuses.items()}


@pytest.fixture
def world(agencies, cast, systems):
    Organisation.current()  # made on first use: make it now, so no request below creates it
    service = Service.objects.get()
    return {
        "alfa": agencies["alfa"].pk,
        "beta": agencies["beta"].pk,
        "sys_alfa": systems["alfa"].pk,
        "sys_beta": systems["beta"].pk,
        "service": service.pk,
        "person": cast["owner"].pk,
    }


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------


@access_table
def core_pages(world):
    a, b, s, sa, sb, p = (world[k] for k in ("alfa", "beta", "service", "sys_alfa", "sys_beta", "person"))
    rows = table(
        ("GET", "/", expect(200, SIGNED_IN)),
        ("GET", "/agencies/", expect(200, SEES_ALFA)),
        ("GET", "/agencies/new/", expect(200, CENTRAL)),
        ("POST", "/agencies/new/", expect(302, CENTRAL)),
        ("GET", f"/agencies/{a}/", expect(200, SEES_ALFA)),
        ("GET", f"/agencies/{b}/", expect(200, SEES_EVERY_AGENCY, hidden=SEES_ALFA)),
        ("GET", f"/agencies/{a}/edit/", expect(200, CHANGES_ALFA)),
        ("POST", f"/agencies/{a}/edit/", expect(302, CHANGES_ALFA)),
        ("GET", f"/agencies/{b}/edit/", expect(200, CENTRAL, hidden=SEES_ALFA - SEES_EVERY_AGENCY)),
        ("POST", f"/agencies/{b}/edit/", expect(302, CENTRAL, hidden=SEES_ALFA - SEES_EVERY_AGENCY)),
        ("GET", "/services/", expect(200, SEES_ALFA)),
        ("GET", "/services/new/", expect(200, CENTRAL)),
        ("POST", "/services/new/", expect(302, CENTRAL)),
        ("GET", f"/services/{s}/", expect(200, SEES_ALFA)),
        ("GET", f"/services/{s}/edit/", expect(200, CENTRAL)),
        ("POST", f"/services/{s}/edit/", expect(302, CENTRAL)),
        ("GET", "/systems/", expect(200, SEES_ALFA)),
        ("GET", "/systems/new/", expect(200, CHANGES_ALFA)),
        ("POST", "/systems/new/", expect(302, CHANGES_ALFA)),
        ("GET", f"/systems/{sa}/", expect(200, SEES_ALFA)),
        ("GET", f"/systems/{sb}/", expect(200, SEES_EVERY_AGENCY, hidden=SEES_ALFA)),
        ("GET", f"/systems/{sa}/edit/", expect(200, CHANGES_ALFA)),
        ("POST", f"/systems/{sa}/edit/", expect(302, CHANGES_ALFA)),
        ("GET", f"/systems/{sb}/edit/", expect(200, CENTRAL, hidden=SEES_ALFA - SEES_EVERY_AGENCY)),
        ("POST", f"/systems/{sb}/edit/", expect(302, CENTRAL, hidden=SEES_ALFA - SEES_EVERY_AGENCY)),
        ("GET", "/users/", expect(200, ADMIN)),
        ("GET", "/users/new/", expect(200, ADMIN)),
        ("POST", "/users/new/", expect(302, ADMIN)),
        ("GET", f"/users/{p}/", expect(200, ADMIN)),
        ("POST", f"/users/{p}/", expect(302, ADMIN)),
        ("GET", f"/users/{p}/edit/", expect(200, ADMIN)),
        ("POST", f"/users/{p}/edit/", expect(302, ADMIN)),
        ("GET", "/settings/", expect(200, SIGNED_IN)),
        ("POST", "/settings/", expect(302, SIGNED_IN)),
        ("GET", "/tokens/", expect(200, ADMIN)),
        ("POST", "/tokens/", expect(201, ADMIN)),
        ("GET", "/audit/", expect(200, CENTRAL)),
        ("GET", "/organisation/", expect(200, ADMIN)),
        ("POST", "/organisation/", expect(302, ADMIN)),
    )
    agency = {"name": "Bydel Endret", "short_code": "ENDRET", "kind": "district"}
    system = {"name": "Nytt system", "agency": a, "criticality": "high", "active": "on"}
    data = {
        "/agencies/new/": {"name": "Ny etat", "short_code": "NY", "kind": "department"},
        f"/agencies/{a}/edit/": agency,
        f"/agencies/{b}/edit/": agency,
        "/services/new/": {"name": "Ny tjeneste", "delivery": "internal", "active": "on"},
        f"/services/{s}/edit/": {"name": "Endret tjeneste", "delivery": "internal", "active": "on"},
        "/systems/new/": system,
        f"/systems/{sa}/edit/": system,
        f"/systems/{sb}/edit/": {**system, "agency": b},
        "/users/new/": {"email": "ny@test.example", "full_name": "Ny Person", "is_active": "on"},
        f"/users/{p}/": {"role": "agency_it_contact", "agency": a},
        f"/users/{p}/edit/": {"email": "owner@test.example", "full_name": "Endret Navn", "is_active": "on"},
        "/tokens/": {"user": p, "name": "skript", "scopes": "core:read", "days": 30},
        "/organisation/": {"name": "Endret kommune", "primary_colour": "#2a2859"},
        "/settings/": {"language": "en"},
    }
    return rows, data


# ---------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------


@access_table
def api_service_catalogue(world):
    """The hole of issue #6: an IT contact and the vendor account got 201 on POST /api/services/."""
    s = world["service"]
    detail = f"/api/services/{s}/"
    rows = table(
        ("GET", "/api/services/", expect(200, SEES_ALFA, api=True)),
        ("POST", "/api/services/", expect(201, CENTRAL, api=True)),
        ("GET", detail, expect(200, SEES_ALFA, api=True)),
        ("PUT", detail, expect(200, CENTRAL, api=True)),
        ("PATCH", detail, expect(200, CENTRAL, api=True)),
        ("DELETE", detail, expect(204, CENTRAL, api=True)),
    )
    service = {"name": "Ny tjeneste", "delivery": "internal"}
    return rows, {"/api/services/": service, detail: service}


@access_table
def api_agencies(world):
    a, b = f"/api/agencies/{world['alfa']}/", f"/api/agencies/{world['beta']}/"
    hidden = SEES_ALFA - SEES_EVERY_AGENCY
    rows = table(
        ("GET", "/api/agencies/", expect(200, SEES_ALFA, api=True)),
        ("POST", "/api/agencies/", expect(201, CENTRAL, api=True)),
        ("GET", a, expect(200, SEES_ALFA, api=True)),
        ("PUT", a, expect(200, CHANGES_ALFA, api=True)),
        ("PATCH", a, expect(200, CHANGES_ALFA, api=True)),
        ("DELETE", a, expect(409, CENTRAL, api=True)),  # still has systems: refused by the data, not access
        ("GET", b, expect(200, SEES_EVERY_AGENCY, hidden=hidden, api=True)),
        ("PUT", b, expect(200, CENTRAL, hidden=hidden, api=True)),
        ("PATCH", b, expect(200, CENTRAL, hidden=hidden, api=True)),
        ("DELETE", b, expect(409, CENTRAL, hidden=hidden, api=True)),
    )
    agency = {"name": "API-etaten", "short_code": "APIE", "kind": "department"}
    return rows, {"/api/agencies/": agency, a: agency, b: agency}


@access_table
def api_systems(world):
    a, b = f"/api/systems/{world['sys_alfa']}/", f"/api/systems/{world['sys_beta']}/"
    into_beta = "/api/systems/?into=beta"
    hidden = SEES_ALFA - SEES_EVERY_AGENCY
    rows = table(
        ("GET", "/api/systems/", expect(200, SEES_ALFA, api=True)),
        ("POST", "/api/systems/", expect(201, CHANGES_ALFA, api=True)),
        ("POST", into_beta, expect(201, CENTRAL, api=True)),  # an agency admin of alfa may not create in beta
        ("GET", a, expect(200, SEES_ALFA, api=True)),
        ("PUT", a, expect(200, CHANGES_ALFA, api=True)),
        ("PATCH", a, expect(200, CHANGES_ALFA, api=True)),
        ("DELETE", a, expect(204, CHANGES_ALFA, api=True)),
        ("GET", b, expect(200, SEES_EVERY_AGENCY, hidden=hidden, api=True)),
        ("PUT", b, expect(200, CENTRAL, hidden=hidden, api=True)),
        ("PATCH", b, expect(200, CENTRAL, hidden=hidden, api=True)),
        ("DELETE", b, expect(204, CENTRAL, hidden=hidden, api=True)),
    )
    alfa = {"name": "API-system", "agency": world["alfa"], "criticality": "low"}
    beta = {"name": "API-system", "agency": world["beta"], "criticality": "low"}
    data = {"/api/systems/": alfa, into_beta: beta, a: alfa, b: beta}
    return rows, data


@access_table
def api_system_cannot_be_moved_out_of_reach(world):
    """PATCHing an alfa system into beta is refused for alfa's agency admin, and changes nothing."""
    a = f"/api/systems/{world['sys_alfa']}/"
    rows = {("agency_admin", "PATCH", a): 403, ("agreement", "PATCH", a): 200}
    return rows, {a: {"agency": world["beta"]}}


@access_table
def api_users(world):
    u = f"/api/users/{world['person']}/"
    rows = table(
        ("GET", "/api/users/", expect(200, ADMIN, api=True)),
        ("POST", "/api/users/", expect(405, ADMIN, api=True)),
        ("GET", u, expect(200, ADMIN, api=True)),
        ("PUT", u, expect(405, ADMIN, api=True)),
        ("PATCH", u, expect(405, ADMIN, api=True)),
        ("DELETE", u, expect(405, ADMIN, api=True)),
    )
    return rows, {}


#: Who appears in whose people pickers: the people holding roles in the agencies one's roles hold.
ALFA_PEOPLE = {"kam", "it_contact", "owner", "agency_admin"}
PEOPLE = {
    "admin": set(CAST),
    "agreement": set(CAST),
    "desk": set(CAST),
    "kam": ALFA_PEOPLE,
    "it_contact": ALFA_PEOPLE,
    "owner": ALFA_PEOPLE,
    "agency_admin": ALFA_PEOPLE,
    "vendor": set(),
    "requester": set(),
    "noroles": set(),
}


def check_people(cast, keys):
    for key in keys:
        seen = set(User.objects.restrict(cast[key], "view").values_list("email", flat=True))
        assert seen == {cast[k].email for k in PEOPLE[key]}, key


def test_people_lists_follow_the_agencies_one_sees(cast):
    check_people(cast, CAST)


@pytest.mark.parametrize("build", TABLES, ids=lambda build: build.__name__)
def test_access_table(clients, world, build):
    rows, data = build(world)
    assert check_access_table(clients, rows, data=data) >= len(rows)


@pytest.mark.slow
@pytest.mark.database_independent
def test_removing_any_rule_makes_a_test_fail(clients, world, cast):
    """Every rule of core's matrix is noticed by the tables above (or the people check) when taken away."""

    def run_for_keys(keys):
        for build in TABLES:
            rows, data = build(world)
            check_access_table(clients, {k: v for k, v in rows.items() if k[0] in keys}, data=data)
        check_people(cast, keys)

    models = [Agency, Service, System, User, Organisation, RoleAssignment, ApiToken]
    assert assert_every_rule_is_tested(models, run_for_keys) > 30
