"""The DCAT-AP-NO export: valid against the profile's required properties; only data sets integrations carry."""

from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import RDF, Graph, URIRef
from rdflib import namespace as ns

from kompass.core.models import Organisation
from kompass.portfolio import services
from kompass.portfolio.dcat import catalogue_graph
from kompass.portfolio.models import DataSet

pytestmark = pytest.mark.django_db

SHAPES = Graph().parse(Path(__file__).with_name("dcat_ap_no_required.ttl"))
BASE = "https://kompass.kommune.example"


def conforms(graph):
    ok, _report_graph, report = validate(graph, shacl_graph=SHAPES)
    return ok, report


@pytest.fixture
def carried(world, cast, agencies):
    Organisation.current()
    persons = DataSet.objects.create(
        name="Personopplysninger fra Folkeregisteret",
        fields="fødselsnummer\nnavn",
        publisher_party=world["freg"],
        personal_data=True,
        keywords="folkeregister, person",
    )
    world["freg"].organisation_number = "974761076"
    world["freg"].save()
    cases = DataSet.objects.create(name="Saksstatus", publisher_agency=agencies["alfa"], keywords="sak")
    DataSet.objects.create(name="Ubrukt datasett")  # no integration carries it
    services.request_integration(
        cast["owner"],
        name="Folkeregisteret til Sak",
        provider_party=world["freg"],
        consumer_system=world["alfa_sak"],
        data_sets=[persons, cases],
        legal_basis_kind="law",
        legal_basis_reference="folkeregisterloven § 10-2",
    )
    return {"persons": persons, "cases": cases}


def test_the_export_conforms_to_the_required_properties(carried):
    graph = catalogue_graph(BASE)
    ok, report = conforms(graph)
    assert ok, report
    datasets = set(graph.subjects(RDF.type, ns.DCAT.Dataset))
    assert datasets == {URIRef(f"{BASE}/portfolio/catalogue/datasets/{d.pk}") for d in carried.values()}
    persons = URIRef(f"{BASE}/portfolio/catalogue/datasets/{carried['persons'].pk}")
    publisher = graph.value(persons, ns.DCTERMS.publisher)
    assert str(graph.value(publisher, ns.FOAF.name)) == "Folkeregisteret"
    assert str(publisher).endswith("974761076")
    assert str(graph.value(persons, ns.DCTERMS.accessRights)).endswith("NON_PUBLIC")
    assert "fødselsnummer" in str(graph.value(persons, ns.DCTERMS.description))


def test_the_shapes_catch_a_missing_required_property(carried):
    """The validation can fail: a data set without a publisher or a theme does not conform."""
    graph = catalogue_graph(BASE)
    persons = URIRef(f"{BASE}/portfolio/catalogue/datasets/{carried['persons'].pk}")
    graph.remove((persons, ns.DCTERMS.publisher, None))
    ok, report = conforms(graph)
    assert not ok and "publisher" in report
    graph = catalogue_graph(BASE)
    graph.remove((persons, ns.DCAT.theme, None))
    assert not conforms(graph)[0]


def test_the_export_through_the_api(clients, carried):
    """The integration list links it; signed-in people reach it with their session, programs with a token."""
    page = clients("owner").get("/api/portfolio/catalogue/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=page.content.decode(), format="turtle")
    assert conforms(graph)[0]
    api = clients("agreement", "token").get("/api/portfolio/catalogue/")
    assert api.status_code == 200 and api["Content-Type"].startswith("text/turtle")
    assert len(set(Graph().parse(data=api.content.decode(), format="turtle").subjects(RDF.type, ns.DCAT.Dataset))) == 2
    refused = clients("noroles").get("/api/portfolio/catalogue/")
    assert refused.status_code == 403


def test_an_error_is_json_like_every_other_endpoints(client):
    """A refusal (here: no credentials) says why, as JSON, not as an empty body with no Content-Type."""
    refused = client.get("/api/portfolio/catalogue/")
    assert refused.status_code in (401, 403)
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["detail"]
