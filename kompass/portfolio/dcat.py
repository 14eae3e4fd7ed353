"""The data-set catalogue in DCAT-AP-NO (the Norwegian application profile of DCAT), as RDF with rdflib.

What is exported: the data sets that integrations carry (``DataSet`` rows linked to an integration), in one
``dcat:Catalog`` published by the organisation, so they can be harvested into the national data catalogue
(data.norge.no). Each data set has the properties DCAT-AP-NO 2 makes mandatory — ``dct:title``,
``dct:description``, ``dct:identifier``, exactly one ``dct:publisher`` (a ``foaf:Agent`` with ``foaf:name``)
and at least one ``dcat:theme`` (a ``skos:Concept`` with ``skos:prefLabel``, from the EU data-theme
vocabulary) — plus keywords and access rights (non-public when it holds personal data). The catalogue has
its title, description, identifier and publisher. The test validates the output with pyshacl against
shapes of those required properties (``tests/dcat_ap_no_required.ttl``).

The descriptions of data sets are metadata, not the data: a catalogue may list a data set with personal
data, marked non-public (``dct:accessRights``). No person's name or contact is exported.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS

from kompass.portfolio.models import DataSet

__all__ = ["catalogue_graph", "catalogue_turtle"]

EU_THEME = Namespace("http://publications.europa.eu/resource/authority/data-theme/")
EU_ACCESS = Namespace("http://publications.europa.eu/resource/authority/access-right/")
EU_ACCESS_SCHEME = URIRef("http://publications.europa.eu/resource/authority/access-right")
ENHETSREGISTERET = "https://data.brreg.no/enhetsregisteret/api/enheter/"
#: The data sets of the portfolio are about public administration (EU theme GOVE) unless told otherwise.
DEFAULT_THEME = ("GOVE", "Forvaltning og offentlig sektor")


def _agent(graph: Graph, name: str, organisation_number: str, fallback: str) -> URIRef:
    agent = URIRef(ENHETSREGISTERET + organisation_number) if organisation_number else URIRef(fallback)
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, Literal(name, lang="nb")))
    if organisation_number:
        graph.add((agent, DCTERMS.identifier, Literal(organisation_number)))
    return agent


def catalogue_graph(base_url: str, data_sets=None) -> Graph:
    """The DCAT-AP-NO catalogue of ``data_sets`` (default: every data set an integration carries)."""
    from kompass.core.models import Organisation

    base_url = base_url.rstrip("/")
    org = Organisation.current()
    graph = Graph()
    graph.bind("dcat", DCAT)
    graph.bind("dct", DCTERMS)
    graph.bind("foaf", FOAF)
    graph.bind("skos", SKOS)
    catalogue = URIRef(f"{base_url}/portfolio/catalogue/")
    publisher = _agent(graph, org.name, "", f"{base_url}/#organisation")
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add((catalogue, DCTERMS.identifier, Literal(str(catalogue))))
    graph.add((catalogue, DCTERMS.title, Literal(_("Data sets exchanged by %(org)s") % {"org": org.name}, lang="nb")))
    graph.add(
        (
            catalogue,
            DCTERMS.description,
            Literal(_("The data sets that the integrations of the portfolio carry."), lang="nb"),
        )
    )
    graph.add((catalogue, DCTERMS.publisher, publisher))
    theme = EU_THEME[DEFAULT_THEME[0]]
    graph.add((theme, RDF.type, SKOS.Concept))
    graph.add((theme, SKOS.prefLabel, Literal(DEFAULT_THEME[1], lang="nb")))
    if data_sets is None:
        data_sets = DataSet.objects.filter(integrations__isnull=False).distinct()
    for data_set in data_sets.select_related("publisher_agency", "publisher_party").order_by("pk"):
        node = URIRef(f"{base_url}/portfolio/catalogue/datasets/{data_set.pk}")
        graph.add((catalogue, DCAT.dataset, node))
        graph.add((node, RDF.type, DCAT.Dataset))
        graph.add((node, DCTERMS.identifier, Literal(str(node))))
        graph.add((node, DCTERMS.title, Literal(data_set.name, lang="nb")))
        description = data_set.description or data_set.name
        fields = [f.strip() for f in data_set.fields.splitlines() if f.strip()]
        if fields:
            description += "\n" + _("Fields: %(fields)s") % {"fields": ", ".join(fields)}
        graph.add((node, DCTERMS.description, Literal(description, lang="nb")))
        if data_set.publisher_agency:
            owner = _agent(
                graph,
                data_set.publisher_agency.name,
                data_set.publisher_agency.organisation_number,
                f"{base_url}/agencies/{data_set.publisher_agency_id}/",
            )
        elif data_set.publisher_party:
            owner = _agent(
                graph,
                data_set.publisher_party.name,
                data_set.publisher_party.organisation_number,
                f"{base_url}/portfolio/parties/{data_set.publisher_party_id}",
            )
        else:
            owner = publisher
        graph.add((node, DCTERMS.publisher, owner))
        graph.add((node, DCAT.theme, theme))
        for keyword in (k.strip() for k in data_set.keywords.split(",")):
            if keyword:
                graph.add((node, DCAT.keyword, Literal(keyword, lang="nb")))
        rights = EU_ACCESS["NON_PUBLIC" if data_set.personal_data else "PUBLIC"]
        graph.add((rights, RDF.type, DCTERMS.RightsStatement))
        graph.add((rights, SKOS.inScheme, EU_ACCESS_SCHEME))
        graph.add((node, DCTERMS.accessRights, rights))
    return graph


def catalogue_turtle(base_url: str, data_sets=None) -> str:
    return catalogue_graph(base_url, data_sets).serialize(format="turtle")
