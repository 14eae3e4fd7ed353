"""The standard cast: three agencies and one user per role (all with password :data:`PASSWORD`).

Agencies: ``alfa`` and ``beta`` (districts) and ``gamma`` (a department).

============== ============================ ====================
key            role                         holds agencies
============== ============================ ====================
admin          administrator                (global)
agreement      agreement manager            (global)
desk           service desk agent           (global)
kam            key account manager          alfa, gamma
it_contact     agency IT main contact       alfa
owner          system owner                 alfa
agency_admin   agency administrator         alfa
vendor         vendor integration account   (global; API only)
requester      none; home agency alfa       (own records)
noroles        none; no home agency         nothing
============== ============================ ====================
"""

from kompass.core.roles import Role

PASSWORD = "correct-horse-battery"  # noqa: S105

#: key -> [(role, agency key or None)]
ROLES = {
    "admin": [(Role.ADMINISTRATOR, None)],
    "agreement": [(Role.AGREEMENT_MANAGER, None)],
    "desk": [(Role.SERVICE_DESK_AGENT, None)],
    "kam": [(Role.KEY_ACCOUNT_MANAGER, "alfa"), (Role.KEY_ACCOUNT_MANAGER, "gamma")],
    "it_contact": [(Role.AGENCY_IT_CONTACT, "alfa")],
    "owner": [(Role.SYSTEM_OWNER, "alfa")],
    "agency_admin": [(Role.AGENCY_ADMIN, "alfa")],
    "vendor": [(Role.VENDOR_INTEGRATION, None)],
    "requester": [],
    "noroles": [],
}
HOME_AGENCY = {"requester": "alfa"}
CAST = list(ROLES)

#: Which agencies each cast member may see, and which they may change (written by hand, not read from the matrix).
EXPECTED_VIEW = {
    "admin": {"alfa", "beta", "gamma"},
    "agreement": {"alfa", "beta", "gamma"},
    "desk": {"alfa", "beta", "gamma"},
    "kam": {"alfa", "gamma"},
    "it_contact": {"alfa"},
    "owner": {"alfa"},
    "agency_admin": {"alfa"},
    "vendor": set(),
    "requester": set(),
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
    "requester": set(),
    "noroles": set(),
}


def make_agencies():
    from kompass.core.models import Agency, Service

    service = Service.objects.create(name="Brukerstøtte", delivery=Service.Delivery.VENDOR, vendor_name="Leverandør")
    alfa = Agency.objects.create(name="Bydel Alfa", short_code="ALFA", kind=Agency.Kind.DISTRICT)
    beta = Agency.objects.create(name="Bydel Beta", short_code="BETA", kind=Agency.Kind.DISTRICT)
    gamma = Agency.objects.create(name="Gammaetaten", short_code="GAMMA", kind=Agency.Kind.DEPARTMENT)
    for agency in (alfa, beta, gamma):
        agency.services.add(service)
    return {"alfa": alfa, "beta": beta, "gamma": gamma}


def make_cast(agencies):
    from kompass.core.models import RoleAssignment, User

    users = {}
    for key, roles in ROLES.items():
        home = agencies[HOME_AGENCY[key]] if key in HOME_AGENCY else None
        user = User.objects.create_user(
            f"{key.replace('_', '.')}@test.example", PASSWORD, full_name=f"Test {key}", home_agency=home
        )
        for role, agency in roles:
            RoleAssignment.objects.create(user=user, role=role, agency=agencies[agency] if agency else None)
        users[key] = user
    return users
