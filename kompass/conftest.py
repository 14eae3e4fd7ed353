"""Shared test fixtures: a standard cast of agencies and one user for every role.

Agencies: ``alfa`` and ``beta`` (districts) and ``gamma`` (a department).
Users (all with password ``PASSWORD``):

============== ============================ ====================
key            role                         sees agencies
============== ============================ ====================
admin          administrator                all
agreement      agreement manager            all
desk           service desk agent           all
kam            key account manager          alfa, gamma
it_contact     agency IT main contact       alfa
owner          system owner                 alfa
agency_admin   agency administrator         alfa
vendor         vendor integration account   none
noroles        (none)                       none
============== ============================ ====================
"""

import os

import pytest

from kompass.core.models import Agency, RoleAssignment, Service, System, User
from kompass.core.roles import Role

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # sync Playwright beside live_server

PASSWORD = "correct-horse-battery"  # noqa: S105

#: Which agencies each cast member may see, and which they may change.
EXPECTED_VIEW = {
    "admin": {"alfa", "beta", "gamma"},
    "agreement": {"alfa", "beta", "gamma"},
    "desk": {"alfa", "beta", "gamma"},
    "kam": {"alfa", "gamma"},
    "it_contact": {"alfa"},
    "owner": {"alfa"},
    "agency_admin": {"alfa"},
    "vendor": set(),
    "noroles": set(),
}
EXPECTED_CHANGE = {
    "admin": {"alfa", "beta", "gamma"},
    "agreement": {"alfa", "beta", "gamma"},
    "desk": set(),
    "kam": set(),
    "it_contact": set(),
    "owner": set(),
    "agency_admin": {"alfa"},
    "vendor": set(),
    "noroles": set(),
}
CAST = list(EXPECTED_VIEW)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def agencies(db):
    service = Service.objects.create(name="Brukerstøtte", delivery=Service.Delivery.VENDOR, vendor_name="Leverandør")
    alfa = Agency.objects.create(name="Bydel Alfa", short_code="ALFA", kind=Agency.Kind.DISTRICT)
    beta = Agency.objects.create(name="Bydel Beta", short_code="BETA", kind=Agency.Kind.DISTRICT)
    gamma = Agency.objects.create(name="Gammaetaten", short_code="GAMMA", kind=Agency.Kind.DEPARTMENT)
    for agency in (alfa, beta, gamma):
        agency.services.add(service)
    return {"alfa": alfa, "beta": beta, "gamma": gamma}


@pytest.fixture
def cast(agencies):
    """One user per role (see module docstring)."""
    spec = {
        "admin": [(Role.ADMINISTRATOR, None)],
        "agreement": [(Role.AGREEMENT_MANAGER, None)],
        "desk": [(Role.SERVICE_DESK_AGENT, None)],
        "kam": [(Role.KEY_ACCOUNT_MANAGER, "alfa"), (Role.KEY_ACCOUNT_MANAGER, "gamma")],
        "it_contact": [(Role.AGENCY_IT_CONTACT, "alfa")],
        "owner": [(Role.SYSTEM_OWNER, "alfa")],
        "agency_admin": [(Role.AGENCY_ADMIN, "alfa")],
        "vendor": [(Role.VENDOR_INTEGRATION, None)],
        "noroles": [],
    }
    users = {}
    for key, roles in spec.items():
        user = User.objects.create_user(f"{key.replace('_', '.')}@test.example", PASSWORD, full_name=f"Test {key}")
        for role, agency in roles:
            RoleAssignment.objects.create(user=user, role=role, agency=agencies[agency] if agency else None)
        users[key] = user
    return users


@pytest.fixture
def systems(agencies, cast):
    return {
        key: System.objects.create(name=f"System {key}", agency=agency, system_owner=cast["owner"])
        for key, agency in agencies.items()
    }


# --------------------------------------------------------------------------------------------
# The ServiceNow simulator as its own process, over HTTPS, for tests of vendor transports
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def snowsim_instance(tmp_path_factory):
    """A real ``snowsim serve`` process on a free port; yields ``(url, ca_path)``."""
    import socket
    import ssl
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    data = tmp_path_factory.mktemp("snowsim")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    snowsim = Path(sys.executable).with_name("snowsim")
    process = subprocess.Popen(  # noqa: S603
        [str(snowsim), "serve", "--port", str(port), "--data", str(data), "--seed", "7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url, ca = f"https://127.0.0.1:{port}", data / "tls" / "ca.pem"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"snowsim exited: {process.stdout.read()}")
        try:
            if ca.exists():
                httpx.get(
                    f"{url}/api/now/table/sys_user?sysparm_limit=1",
                    auth=("admin", "admin"),
                    verify=ssl.create_default_context(cafile=str(ca)),
                    timeout=2,
                    trust_env=False,
                )
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("snowsim did not start in 30 s")
        time.sleep(0.2)
    yield url, str(ca)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
