"""Demo data: a realistic municipality with 50 agencies, ~300 contacts, ~10 services and ~600 systems.

``build_plan(seed)`` computes the whole data set in memory, deterministically from ``random.Random(seed)``;
``load(plan, ...)`` writes it to the database idempotently, keyed by natural keys (agency short code,
user e-mail, service name, (agency, system name), (user, role, agency)): missing rows are bulk-created,
existing rows are brought back to the demo values, nothing is duplicated, and a second run with the same
seed changes nothing.

The agency names are public names of Oslo kommune's districts, agencies and municipal companies (not
necessarily today's exact organisation chart). Everything else is invented: organisation numbers are
generated to pass the MOD11 check but are not the agencies' real numbers, people are random combinations
of common Norwegian names, and every e-mail address is on the reserved ``kommune.example`` domain.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth.hashers import check_password, is_password_usable, make_password
from django.db import transaction
from django.utils import timezone

from kompass.core.roles import Role

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_SEED",
    "DEMO_DOMAIN",
    "DEMO_LOGINS",
    "IT_AGENCY_NAME",
    "DemoLogin",
    "LoadResult",
    "Plan",
    "build_plan",
    "database_digest",
    "load",
    "organisation_number",
]

DEFAULT_SEED = 2026
DEFAULT_PASSWORD = "kompass-demo"
DEMO_DOMAIN = "kommune.example"  # RFC 2606 reserves .example: these addresses can never reach anyone.
IT_AGENCY_NAME = "Utviklings- og kompetanseetaten (UKE)"
SUPPORT_EMAIL = f"servicedesk@{DEMO_DOMAIN}"

DISTRICT, DEPARTMENT, COMPANY, OTHER = "district", "department", "company", "other"

_DISTRICT_TEXT = (
    "Bydel i Oslo: helse- og omsorgstjenester, barnevern, barnehager, NAV-kontor, "
    "ungdoms- og fritidstilbud og bydelsutvalgets sekretariat."
)

# The data tables below are kept one record per line on purpose.
# fmt: off

# ---------------------------------------------------------------------------------------------
# Agencies: (short code, name, kind, size, description). Size is the base number of systems.
# 15 districts + 24 departments + 3 other bodies + 8 municipal companies = 50.
# ---------------------------------------------------------------------------------------------
AGENCIES: list[tuple[str, str, str, int, str]] = [
    # The 15 districts (bydeler)
    ("BGO", "Bydel Gamle Oslo", DISTRICT, 12, _DISTRICT_TEXT),
    ("BGRU", "Bydel Grünerløkka", DISTRICT, 12, _DISTRICT_TEXT),
    ("BSA", "Bydel Sagene", DISTRICT, 11, _DISTRICT_TEXT),
    ("BSTH", "Bydel St. Hanshaugen", DISTRICT, 11, _DISTRICT_TEXT),
    ("BFR", "Bydel Frogner", DISTRICT, 12, _DISTRICT_TEXT),
    ("BUL", "Bydel Ullern", DISTRICT, 10, _DISTRICT_TEXT),
    ("BVA", "Bydel Vestre Aker", DISTRICT, 11, _DISTRICT_TEXT),
    ("BNA", "Bydel Nordre Aker", DISTRICT, 12, _DISTRICT_TEXT),
    ("BBJ", "Bydel Bjerke", DISTRICT, 11, _DISTRICT_TEXT),
    ("BGRO", "Bydel Grorud", DISTRICT, 11, _DISTRICT_TEXT),
    ("BSTO", "Bydel Stovner", DISTRICT, 11, _DISTRICT_TEXT),
    ("BAL", "Bydel Alna", DISTRICT, 12, _DISTRICT_TEXT),
    ("BØS", "Bydel Østensjø", DISTRICT, 12, _DISTRICT_TEXT),
    ("BNS", "Bydel Nordstrand", DISTRICT, 11, _DISTRICT_TEXT),
    ("BSN", "Bydel Søndre Nordstrand", DISTRICT, 12, _DISTRICT_TEXT),
    # Departments (etater) and other bodies
    ("UKE", "Utviklings- og kompetanseetaten", DEPARTMENT, 27, "Kommunens IT-virksomhet: drift, digitalisering, felles plattformer og kompetanse."),  # noqa: E501
    ("UDE", "Utdanningsetaten", DEPARTMENT, 42, "Grunnskoler, videregående skoler, voksenopplæring og PPT."),
    ("HEL", "Helseetaten", DEPARTMENT, 28, "Legevakt, smittevern, miljørettet helsevern og helsefaglige tjenester."),
    ("SYE", "Sykehjemsetaten", DEPARTMENT, 22, "Drift av kommunens sykehjem og helsehus."),
    ("VEL", "Velferdsetaten", DEPARTMENT, 20, "Sosiale tjenester, bolig for vanskeligstilte, rus og flyktninger."),
    ("BYM", "Bymiljøetaten", DEPARTMENT, 31, "Gater, parker, friområder, idrettsanlegg, parkering og bymiljø."),
    ("PBE", "Plan- og bygningsetaten", DEPARTMENT, 21, "Reguleringsplaner, byggesaker, kart og geodata."),
    ("EBY", "Eiendoms- og byfornyelsesetaten", DEPARTMENT, 13, "Kommunens eiendomsforvaltning og byfornyelse."),
    ("BRE", "Brann- og redningsetaten", DEPARTMENT, 18, "Brann- og redningstjeneste, 110-sentral og feiing."),
    ("KUL", "Kulturetaten", DEPARTMENT, 12, "Kulturtilskudd, kulturhus, kunst i offentlig rom og museer."),
    ("BFE", "Barne- og familieetaten", DEPARTMENT, 15, "Barnevernsinstitusjoner, fosterhjem og barnevernvakt."),
    ("BER", "Beredskapsetaten", DEPARTMENT, 7, "Kommunens samfunnssikkerhet og beredskap."),
    ("VAV", "Vann- og avløpsetaten", DEPARTMENT, 17, "Drikkevann, avløp og overvann."),
    ("REG", "Renovasjons- og gjenvinningsetaten", DEPARTMENT, 13, "Innsamling og behandling av husholdningsavfall."),
    ("BYA", "Byantikvaren", DEPARTMENT, 5, "Kulturminnevern i Oslo."),
    ("DEB", "Deichman", DEPARTMENT, 8, "Oslo kommunes folkebibliotek."),
    ("KLI", "Klimaetaten", DEPARTMENT, 6, "Klimastrategi, klimabudsjett og miljøovervåking."),
    ("GFE", "Gravferdsetaten", DEPARTMENT, 6, "Gravplasser, krematorier og seremonirom."),
    ("NAE", "Næringsetaten", DEPARTMENT, 6, "Skjenke-, serverings- og salgsbevillinger."),
    ("MUNCH", "MUNCH", DEPARTMENT, 7, "Museum for Edvard Munchs kunst."),
    ("KRV", "Kommunerevisjonen", DEPARTMENT, 4, "Revisjon av kommunens virksomheter."),
    ("KAD", "Kommuneadvokaten", DEPARTMENT, 4, "Kommunens juridiske rådgiver og prosessfullmektig."),
    ("RFT", "Rådhusets forvaltningstjeneste", DEPARTMENT, 6, "Fellestjenester for Oslo rådhus og byrådsavdelingene."),
    ("BYS", "Bystyrets sekretariat", DEPARTMENT, 4, "Sekretariat for bystyret og bystyrekomiteene."),
    ("BLK", "Byrådslederens kontor", OTHER, 4, "Byrådslederens stab."),
    ("BFI", "Byrådsavdeling for finans", OTHER, 5, "Økonomistyring, budsjett og eierskap."),
    ("ELDO", "Eldreombudet", OTHER, 3, "Ombud for eldre og pårørende i Oslo."),
    # Municipal companies (AS and KF)
    ("SPV", "Sporveien AS", COMPANY, 18, "Drift av T-bane og trikk i Oslo."),
    ("SPV-TRI", "Sporveien Trikken AS", COMPANY, 5, "Trikkedrift."),
    ("SPV-TB", "Sporveien T-banen AS", COMPANY, 5, "T-banedrift."),
    ("OHV", "Oslo Havn KF", COMPANY, 10, "Havnevirksomhet og forvaltning av havneområdene."),
    ("OBF", "Oslobygg KF", COMPANY, 14, "Bygger og forvalter skoler, barnehager, sykehjem og kulturbygg."),
    ("BBY", "Boligbygg Oslo KF", COMPANY, 10, "Forvaltning av kommunale utleieboliger."),
    ("OPF", "Oslo Pensjonsforsikring AS", COMPANY, 4, "Pensjonsordning for kommunens ansatte."),
    ("OBR", "Oslo Business Region AS", COMPANY, 3, "Næringsutvikling og gründerstøtte."),
]

# ---------------------------------------------------------------------------------------------
# Services: (name, owning team, delivery, vendor, description)
# ---------------------------------------------------------------------------------------------
VENDOR = "Driftsleverandør AS"
SERVICES: list[tuple[str, str, str, str, str]] = [
    ("Brukerstøtte (servicedesk)", "Servicedesk", "internal", "", "Førstelinje brukerstøtte på telefon, chat og portal."),  # noqa: E501
    ("Arbeidsflate og klient", "Klient og arbeidsflate", "vendor", VENDOR, "PC-er, mobiler, programvaredistribusjon og utskrift."),  # noqa: E501
    ("Nettverk", "Nettverk og kommunikasjon", "vendor", VENDOR, "Kablet og trådløst nett, WAN og brannmurer."),
    ("Drift av servere og plattform", "Plattformdrift", "vendor", VENDOR, "Drift av servere, lagring og sikkerhetskopi i kommunens datasentre."),  # noqa: E501
    ("Sikkerhetstjenester (SOC)", "Sikkerhetssenteret", "internal", "", "Overvåking, hendelseshåndtering og sårbarhetsstyring."),  # noqa: E501
    ("Identitet og tilgang", "Identitet og tilgang", "internal", "", "Brukerkontoer, pålogging og tilgangsstyring."),
    ("E-post og samhandling (Microsoft 365)", "Samhandling", "internal", "", "E-post, Teams, SharePoint og OneDrive."),
    ("Databaser", "Databaseforvaltning", "vendor", VENDOR, "Drift av SQL Server-, Oracle- og PostgreSQL-databaser."),
    ("Integrasjonsplattform", "Integrasjon", "internal", "", "Meldingsformidling og API-er mellom fagsystemer."),
    ("Applikasjonsdrift", "Applikasjonsforvaltning", "vendor", VENDOR, "Drift, oppgradering og overvåking av fagsystemer."),  # noqa: E501
    ("Skytjenester", "Sky og plattform", "internal", "", "Landingssone og drift i offentlig sky."),
]
#: Services every agency takes.
BASE_SERVICES = [
    "Brukerstøtte (servicedesk)",
    "Arbeidsflate og klient",
    "Identitet og tilgang",
    "E-post og samhandling (Microsoft 365)",
    "Sikkerhetstjenester (SOC)",
]
#: Optional services and how likely an agency of each kind is to take them.
OPTIONAL_SERVICES: dict[str, dict[str, float]] = {
    "Nettverk":                      {DISTRICT: 1.0, DEPARTMENT: 0.95, OTHER: 1.0, COMPANY: 0.4},
    "Drift av servere og plattform": {DISTRICT: 0.9, DEPARTMENT: 0.9, OTHER: 0.6, COMPANY: 0.5},
    "Databaser":                     {DISTRICT: 0.6, DEPARTMENT: 0.8, OTHER: 0.3, COMPANY: 0.4},
    "Integrasjonsplattform":         {DISTRICT: 0.7, DEPARTMENT: 0.75, OTHER: 0.3, COMPANY: 0.3},
    "Applikasjonsdrift":             {DISTRICT: 0.9, DEPARTMENT: 0.85, OTHER: 0.5, COMPANY: 0.5},
    "Skytjenester":                  {DISTRICT: 0.3, DEPARTMENT: 0.6, OTHER: 0.3, COMPANY: 0.5},
}
#: Services a system can run on.
SYSTEM_SERVICES = [
    "Drift av servere og plattform", "Databaser", "Integrasjonsplattform", "Applikasjonsdrift", "Skytjenester",
]

# ---------------------------------------------------------------------------------------------
# System names: "Product – purpose". Generic ones suit every agency; the rest suit one kind or agency.
# ---------------------------------------------------------------------------------------------
GENERIC_SYSTEMS = [
    "Unit4 ERP – økonomi og regnskap", "Unit4 ERP – innkjøp og fakturabehandling", "Visma Enterprise – HR og lønn",
    "Visma Enterprise – reiseregning", "Public 360 – sak og arkiv", "Elements – sak og arkiv",
    "Acos WebSak – saksbehandling", "TQM – avvikshåndtering", "Compilo – internkontroll",
    "Tidsbanken – timeregistrering", "GAT – turnus og vaktplan", "SharePoint – intranett",
    "Power BI – styringsdata", "Qlik Sense – rapportering", "Questback – spørreundersøkelser",
    "Puzzel – kontaktsenter", "KS Fiks SvarUt – digital post", "KS Fiks Folkeregister – oppslag",
    "Mercell – konkurransegjennomføring", "Visma Proceedo – e-handel", "Kursportalen – kompetanse",
    "Nettsider – publisering", "Møteportal – politiske møter", "Signicat – e-signering",
    "eInnsyn – publisering av postjournal", "Kvalitetssystem – håndbøker", "Adgangskontroll – bygg",
    "Besøksregistrering", "Dokumentmaler – maler og brevflett", "Altinn – innsending av skjema",
]
DISTRICT_SYSTEMS = [
    "Gerica – hjemmesykepleie", "Gerica – praktisk bistand", "Gerica – tildelingskontor", "Gerica – helsehus",
    "Gerica – dagsenter", "Familia – barnevern", "Visma Flyt Barnehage – opptak",
    "Visma Flyt Barnehage – foreldrebetaling", "CosDoc – helsestasjon", "CosDoc – fysio- og ergoterapi",
    "CosDoc – skolehelsetjeneste", "Websak – saksbehandling", "Agresso – bydelsøkonomi",
    "GAB – eiendomsregister (historikk)", "Socio – økonomisk sosialhjelp", "Modia – NAV-kontor",
    "Profil – helse og omsorg", "Visma Flyt Sampro – individuell plan", "Checkware – psykisk helse",
    "Trygghetsalarm – responssenter", "Digitalt tilsyn – velferdsteknologi",
    "BPA – brukerstyrt personlig assistanse", "Startlån – Husbanken-integrasjon", "Fritidsklubb – medlemsregister",
    "Frivilligsentral – booking", "Hverdagsrehabilitering – oppfølging", "Bydelsutvalg – politiske saker",
    "Aktivitetskalender – seniorsentre", "Ungdomstjenesten – oppfølging", "Kommunal bostøtte – søknader",
]
AGENCY_SYSTEMS: dict[str, list[str]] = {
    "UKE": [
        "ServiceNow – IT-tjenestestyring", "Active Directory – katalogtjeneste", "Entra ID – identitet",
        "Intune – enhetsstyring", "Configuration Manager – programvaredistribusjon", "Veeam – sikkerhetskopi",
        "Splunk – logganalyse og SIEM", "Zabbix – overvåking", "MuleSoft – integrasjonsplattform",
        "API-portal – utviklerportal", "Datavarehus – felles styringsdata", "Origo – dataplattform",
        "GitLab – kildekode og CI", "Azure DevOps – utviklingsprosjekter", "Vault – hemmelighetshåndtering",
        "PKI – sertifikattjeneste", "Kompetanseportalen – e-læring", "Lisensforvaltning – programvarelisenser",
        "Skriverplattform – sikker utskrift", "Telefoni – Teams-telefoni", "Nettverksovervåking – NMS",
        "Brannmurforvaltning", "Kundeportal – tjenestebestilling", "Kompass – tjenesteintegrasjon",
        "Kartotek – IT-eiendeler (CMDB)", "Dokumentasjonsportal – driftshåndbøker",
    ],
    "UDE": [
        "Visma Flyt Skole – grunnskole", "Visma Flyt Skole – fravær og vurdering", "Visma InSchool – videregående",
        "Skoleplattform Oslo – læringsplattform", "itslearning – læringsplattform", "Feide – skoleidentitet",
        "Inspera – digital eksamen", "Visma Flyt PPT – pedagogisk-psykologisk tjeneste", "Skoleskyss – bestilling",
        "Skoleportalen – foreldrekommunikasjon", "Elevkort – adgang og utlån", "Vigo – inntak videregående",
        "Voksenopplæring – elevregister", "Læremidler – lisensforvaltning", "Chromebook – enhetsstyring",
        "iPad – enhetsstyring (MDM)", "Skolemat – bestilling", "Leksehjelp – påmelding", "AKS – aktivitetsskolen",
        "Spesialundervisning – vedtak", "Kartlegging – lese og regne", "Elevundersøkelsen – analyse",
        "Timeplan – Novaschem", "Skolebibliotek – utlån", "Lærlingkontor – lærekontrakter",
        "Sommerskolen – påmelding", "Oppvekst – statistikk",
    ],
    "HEL": [
        "Infodoc Plenario – legevakt", "Legevakt – akuttjournal", "Smittesporing – oppfølging", "MSIS – meldinger",
        "SYSVAK – vaksinasjonsregistrering", "Meldingsformidling – Norsk helsenett",
        "Miljørettet helsevern – tilsyn", "Helsestasjon for ungdom – timebok",
        "Kommunal akutt døgnenhet – journal", "Kjernejournal – oppslag", "E-resept – forskrivning",
        "Helseplattform – pasientvarsling", "Reisevaksinasjon – timebestilling", "Skadestatistikk – legevakt",
        "Rusmiddelkontroll – analyse", "Tolkeformidling – bestilling", "Helsetjenester for bostedsløse – journal",
        "Overgrepsmottak – journal",
    ],
    "SYE": [
        "Gerica – sykehjem", "Gerica – korttidsplasser", "Medisinrom – legemiddelhåndtering", "E-resept – sykehjem",
        "Pasientvarsling – sykesignal", "Kjøkken – kostholdsregistrering", "Digitalt tilsyn – sykehjem",
        "Sykehjemsplass – vedtak og venteliste", "Pårørendeportal", "Vikarsentral – bemanning",
        "Kvalitetsindikatorer – sykehjem", "Hjelpemidler – utlån",
    ],
    "VEL": [
        "Socio – sosialtjenester", "Visma Flyt Bolig – boligsosialt arbeid", "Flyktningtjenesten – bosetting",
        "Introduksjonsprogrammet – oppfølging", "Husbanken – bostøtteintegrasjon", "Rusomsorg – journal",
        "Botiltak – plassforvaltning", "Tolk – bestilling", "Utekontakten – oppfølging",
        "Arbeid og aktivitet – tiltak",
    ],
    "BYM": [
        "Bymelding – innbyggermeldinger", "Parkering – tillatelser", "Parkering – kontroll og gebyr",
        "Trafikkdata – tellepunkter", "Vinterdrift – brøyteruter", "Gatelys – styring", "Trekart – bytrær",
        "Idrettsanlegg – booking", "Friområder – skjøtselsplaner", "Gravemeldinger – saksbehandling",
        "Veidata – NVDB-integrasjon", "Tilskudd – idrett og friluftsliv", "Elsparkesykler – regulering",
        "Skilt og oppmerking – register", "Drosje – løyver", "Lekeplasser – kontroll", "Marka – forvaltning",
        "Badeplasser – vannkvalitet",
    ],
    "PBE": [
        "eByggesak – byggesaksbehandling", "Planinnsyn – reguleringsplaner", "ISY Prosjekt – planarbeid",
        "Matrikkelen – klient", "Geodata – kartforvaltning", "3D bymodell", "Seeiendom – innsyn",
        "Kommunekart – publisering", "Oppmåling – landmåling", "Situasjonskart – bestilling",
        "Ulovlighetsoppfølging – tilsyn", "Eiendomsskatt – takst",
    ],
    "EBY": [
        "Plania – eiendomsforvaltning", "Tomtefeste – festeavtaler", "Eiendomsregister – kommunal eiendom",
        "Byfornyelse – prosjektoppfølging", "Husleie – fakturering", "Oppkjøp – eiendomstransaksjoner",
    ],
    "BRE": [
        "110-sentral – oppdragshåndtering", "Nødnett – integrasjon", "Ressursstyring – mannskap og kjøretøy",
        "Brannforebygging – tilsyn", "Feiing – KomTek", "Innsatsplaner – objektdatabase", "Øvelser – planlegging",
        "Alarmoverføring – brannalarmer", "Vaktplan – brannstasjoner", "Hendelsesrapportering – BRIS",
    ],
    "KUL": [
        "Kulturtilskudd – søknadsportal", "Kulturhus – booking", "Primus – samlingsforvaltning",
        "DigitaltMuseum – publisering", "Kunst i offentlig rom – register", "Billettsalg – kulturarrangementer",
        "Arrangementskalender",
    ],
    "BFE": [
        "Familia – barnevernsinstitusjoner", "Modulus Barn – barnevern", "Fosterhjem – rekruttering og oppfølging",
        "Barnevernvakten – journal", "Institusjonsplasser – forvaltning", "Ungdomshjem – journal",
        "Beredskapshjem – oppfølging",
    ],
    "BER": [
        "Krisestøtteverktøy – DSB-CIM", "Varsling – befolkningsvarsling", "Risiko- og sårbarhetsanalyser",
        "Beredskapsplaner – register",
    ],
    "VAV": [
        "Gemini VA – ledningskart", "SCADA – vannbehandling", "SCADA – avløpsrenseanlegg", "Vannmålere – avlesning",
        "Lekkasjekontroll – soneovervåking", "LIMS – vannprøver", "Abonnentregister – vann og avløp",
        "Overvann – flomvarsling", "Driftsoppgaver – arbeidsordre", "Tilknytning – saksbehandling",
    ],
    "REG": [
        "Renovasjonsruter – planlegging", "Gjenvinningsstasjon – vektregistrering", "Abonnement – avfall",
        "Tømmekalender – innbyggertjeneste", "Energigjenvinning – driftsdata", "Kjøretøy – flåtestyring",
        "Avvik – innsamling",
    ],
    "BYA": ["Gul liste – kulturminneregister", "Fotoarkiv – byantikvarisk", "Kulturminnesøk – integrasjon"],
    "DEB": [
        "Koha – bibliotekssystem", "Selvbetjening – utlånsautomater", "Arrangementer – bibliotek",
        "Digital utlån – e-bøker", "Meråpent bibliotek – adgang",
    ],
    "KLI": [
        "Klimabudsjett – oppfølging", "Klimastatistikk", "Luftkvalitet – målestasjoner", "Klimatilskudd – søknader",
    ],
    "GFE": ["Gravregister", "Krematorium – styring", "Seremonirom – booking", "Gravstell – avtaler"],
    "NAE": [
        "Bevillinger – skjenking og servering", "Skjenkekontroll – rapportering", "Salgsbevillinger",
        "Kunnskapsprøver – påmelding",
    ],
    "MUNCH": [
        "Samlingsforvaltning – kunstverk", "Billettsystem – museum", "Nettbutikk", "Utstillingsplanlegging",
        "Bildebank – rettighetshåndtering",
    ],
    "KRV": ["Revisjon – arbeidspapirer", "Dataanalyse – revisjon"],
    "KAD": ["Saksstyring – rettssaker", "Lovdata Pro – oppslag"],
    "RFT": ["Rådhuset – romreservasjon", "Sentralbord – Oslo rådhus", "Kantine – betaling"],
    "BYS": ["Politisk saksbehandling – bystyret", "Bystyremøter – videooverføring"],
    "BLK": ["Byrådssaker – saksflyt"],
    "BFI": ["Budsjettsystem – kommunebudsjett", "Eierskapsportal – selskapsoppfølging"],
    "ELDO": ["Henvendelser – ombudssaker"],
    "SPV": [
        "Signalanlegg – trafikkstyring T-bane", "Trafikkstyring – trikk", "IFS – vedlikehold av vogner",
        "Rutedata – planlegging", "Sanntidsinformasjon – holdeplasser", "Ombordsystemer – kommunikasjon",
        "Infrastruktur – sporvedlikehold", "Energistyring – likeretterstasjoner", "Vaktplan – førere",
        "Kameraovervåking – stasjoner", "Avviksmeldinger – drift", "Reservedeler – lager",
    ],
    "SPV-TRI": ["Trikkeflåte – vedlikehold", "Førerplanlegging – trikk", "Driftssentral – trikk"],
    "SPV-TB": ["T-baneflåte – vedlikehold", "Førerplanlegging – T-bane", "Driftssentral – T-bane"],
    "OHV": [
        "Havnesystem – anløp", "Port Community System", "ISPS – adgangskontroll", "Kai- og arealutleie",
        "Miljødata – landstrøm", "Havneavgifter – fakturering",
    ],
    "OBF": [
        "FDV – bygningsdrift", "Energioppfølging – bygg", "Prosjektstyring – byggeprosjekter",
        "SD-anlegg – byggautomasjon", "Vedlikeholdsplan – skolebygg", "Renhold – planlegging",
        "Tegningsarkiv – bygg", "Leieavtaler – kommunale bygg",
    ],
    "BBY": [
        "Utleie – kommunale boliger", "Husleie – reskontro", "Vedlikehold – boliger", "Beboerportal",
        "Boligtildeling – integrasjon",
    ],
    "OPF": ["Pensjonsberegning", "Medlemsregister – pensjon", "Pensjonsutbetaling"],
    "OBR": ["CRM – næringskontakter", "Gründerdatabase"],
}
#: Systems that life, health or critical infrastructure depend on are never rated low.
CRITICAL_HINTS = (
    "Gerica", "110-sentral", "SCADA", "Signalanlegg", "Nødnett", "Legevakt", "Medisinrom", "Familia",
    "Entra ID", "Active Directory", "Trafikkstyring", "E-resept", "Infodoc",
)

# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------
FIRST_NAMES = [
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg", "Hilde", "Anna",
    "Solveig", "Marianne", "Randi", "Ida", "Nina", "Maria", "Elisabeth", "Kristin", "Tone", "Silje", "Camilla",
    "Ingeborg", "Hanne", "Ragnhild", "Siri", "Heidi", "Mona", "Nora", "Emma", "Sara", "Thea", "Ingvild",
    "Fatima", "Amina", "Aisha", "Maryam", "Linh", "Agnieszka", "Sofie", "Marte", "Kjersti", "Guro",
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Thomas", "Hans", "Geir",
    "Tor", "Morten", "Terje", "Odd", "Erik", "Martin", "Andreas", "John", "Anders", "Rune", "Trond",
    "Tore", "Jon", "Espen", "Magnus", "Henrik", "Kristian", "Øyvind", "Håkon", "Sindre", "Eirik",
    "Mohammed", "Ali", "Ahmed", "Omar", "Hassan", "Tuan", "Piotr", "Sander", "Jonas", "Even", "Stian",
]
LAST_NAMES = [
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
    "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen", "Johannessen", "Andreassen",
    "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen", "Lund", "Sørensen", "Jakobsen", "Moen",
    "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen",
    "Bakken", "Kristoffersen", "Mathisen", "Lie", "Amundsen", "Nguyen", "Rasmussen", "Ali", "Lunde",
    "Solheim", "Berntsen", "Moe", "Kristensen", "Bakke", "Ahmed", "Holm", "Knudsen", "Khan", "Aas",
    "Christensen", "Hussain", "Engen", "Sæther", "Tveit", "Evensen", "Hauge", "Næss", "Myhre", "Vik",
    "Aasen", "Ødegård", "Bjørnstad", "Nygård", "Fredriksen", "Lien", "Sandvik", "Haugland", "Kowalski",
    "Tran", "Mohamed", "Rustad", "Ruud", "Brekke", "Thorsen", "Aune", "Helland", "Østby", "Wold",
]
IT_CONTACT_TITLES = ["IT-koordinator", "IT-leder", "Digitaliseringsrådgiver", "Seksjonsleder IT"]
SYSTEM_OWNER_TITLES = ["Systemeier", "Fagsystemansvarlig", "Avdelingsdirektør", "Seksjonssjef", "Fagleder"]
AGENCY_ADMIN_TITLES = ["Virksomhetsadministrator", "Seniorrådgiver", "Rådgiver, virksomhetsstyring"]

# fmt: on


@dataclass(frozen=True)
class DemoLogin:
    email: str
    full_name: str
    title: str
    role: Role | None  # None: an agency employee with no role, a requester of their own cases
    agency_codes: tuple[str, ...] = ()
    superuser: bool = False
    home_agency: str | None = None


#: The demo logins, one per role. They share the demo password; everyone else has an unusable password.
DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin(
        f"admin@{DEMO_DOMAIN}", "Marte Solheim", "Systemadministrator, Kompass", Role.ADMINISTRATOR, superuser=True
    ),
    DemoLogin(f"avtale@{DEMO_DOMAIN}", "Henrik Aasen", "Avtaleforvalter, UKE", Role.AGREEMENT_MANAGER),
    DemoLogin(
        f"kam@{DEMO_DOMAIN}",
        "Ingvild Brekke",
        "Kundeansvarlig, UKE",
        Role.KEY_ACCOUNT_MANAGER,
        ("BGRU", "BSA", "UDE", "HEL", "SPV"),
    ),
    DemoLogin(f"servicedesk@{DEMO_DOMAIN}", "Sindre Lunde", "Servicedeskmedarbeider, UKE", Role.SERVICE_DESK_AGENT),
    DemoLogin(f"it.grunerlokka@{DEMO_DOMAIN}", "Amina Hussain", "IT-koordinator", Role.AGENCY_IT_CONTACT, ("BGRU",)),
    DemoLogin(f"systemeier.ute@{DEMO_DOMAIN}", "Jonas Wold", "Systemeier", Role.SYSTEM_OWNER, ("UDE",)),
    DemoLogin(f"admin.helse@{DEMO_DOMAIN}", "Ragnhild Østby", "Virksomhetsadministrator", Role.AGENCY_ADMIN, ("HEL",)),
    DemoLogin(
        f"integrasjon@{DEMO_DOMAIN}", "Driftsleverandør AS (integrasjon)", "Integrasjonskonto", Role.VENDOR_INTEGRATION
    ),
    DemoLogin(f"ansatt.grunerlokka@{DEMO_DOMAIN}", "Selma Haugland", "Saksbehandler", None, home_agency="BGRU"),
    # Bound to the operations contract by the contract app's demo data.
    DemoLogin(
        f"leverandor@{DEMO_DOMAIN}",
        "Tobias Lien",
        "Leveranseansvarlig, Driftsleverandør AS",
        Role.VENDOR_REPRESENTATIVE,
    ),
]

N_KEY_ACCOUNT_MANAGERS = 8
N_GLOBAL = {
    Role.AGREEMENT_MANAGER: (3, "Avtaleforvalter, UKE"),
    Role.SERVICE_DESK_AGENT: (4, "Servicedeskmedarbeider, UKE"),
    Role.VENDOR_INTEGRATION: (1, ""),
    Role.VENDOR_REPRESENTATIVE: (1, ""),
    Role.ADMINISTRATOR: (1, "Systemadministrator, Kompass"),
}
#: Before CRITICAL_HINTS lifts some systems; the result is about 8 % critical, 25 % high, 45 % medium, 22 % low.
CRITICALITY_WEIGHTS = {"critical": 8, "high": 21, "medium": 47, "low": 24}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def organisation_number(code: str) -> str:
    """A made-up nine-digit organisation number that passes Brønnøysund's MOD11 check.

    Derived from the short code (not the seed), so an agency keeps its number whatever the seed. The
    numbers are not the agencies' real ones.
    """
    weights = [3, 2, 7, 6, 5, 4, 3, 2]
    counter = 0
    while True:
        digest = hashlib.sha256(f"kompass-demo:{code}:{counter}".encode()).hexdigest()
        body = "9" + str(int(digest, 16))[-7:].rjust(7, "0")
        remainder = sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
        check = 0 if remainder == 0 else 11 - remainder
        if check != 10:
            return body + str(check)
        counter += 1


_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u", "é": "e"})


def email_for(first: str, last: str) -> str:
    local = f"{first}.{last}".lower().translate(_ASCII).replace(" ", "-")
    local = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
    return f"{local}@{DEMO_DOMAIN}"


# ---------------------------------------------------------------------------------------------
# The plan: plain data, computed without touching the database
# ---------------------------------------------------------------------------------------------
@dataclass
class Plan:
    seed: int
    services: list[dict] = field(default_factory=list)
    agencies: list[dict] = field(default_factory=list)  # each has "services": [service names]
    users: list[dict] = field(default_factory=list)  # email, full_name, title, login, superuser
    roles: list[tuple[str, str, str | None]] = field(default_factory=list)  # (email, role, agency code)
    systems: list[dict] = field(default_factory=list)  # agency, name, owner, criticality, description, services

    def digest(self) -> str:
        return _digest(self.as_data())

    def as_data(self) -> dict:
        return {
            "services": sorted((s["name"], s["owning_team"], s["delivery"], s["vendor_name"]) for s in self.services),
            "agencies": sorted(
                (a["short_code"], a["name"], a["kind"], a["organisation_number"], sorted(a["services"]))
                for a in self.agencies
            ),
            "users": sorted((u["email"], u["full_name"], u["title"]) for u in self.users),
            "roles": sorted((e, r, c or "") for e, r, c in self.roles),
            "systems": sorted(
                (s["agency"], s["name"], s["owner"], s["criticality"], sorted(s["services"])) for s in self.systems
            ),
        }


def _digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def build_plan(seed: int = DEFAULT_SEED) -> Plan:
    """The whole demo data set for ``seed``; the same seed always gives the same plan."""
    rng = random.Random(seed)
    plan = Plan(seed=seed)

    for name, team, delivery, vendor, description in SERVICES:
        plan.services.append(
            {"name": name, "owning_team": team, "delivery": delivery, "vendor_name": vendor, "description": description}
        )

    for code, name, kind, _size, description in AGENCIES:
        services = list(BASE_SERVICES)
        services += [s for s, p in OPTIONAL_SERVICES.items() if rng.random() < p[kind]]
        if code == "UKE":
            services = [s[0] for s in SERVICES]  # the IT agency takes everything it delivers
        plan.agencies.append(
            {
                "short_code": code,
                "name": name,
                "kind": kind,
                "organisation_number": organisation_number(code),
                "description": description,
                "services": [s[0] for s in SERVICES if s[0] in services],  # catalogue order
            }
        )

    # People. Names are drawn without repetition so every e-mail address is unique.
    used_emails = {login.email for login in DEMO_LOGINS}
    used_names = {login.full_name for login in DEMO_LOGINS}

    def person(title: str) -> dict:
        while True:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            full_name, email = f"{first} {last}", email_for(first, last)
            if email not in used_emails and full_name not in used_names:
                used_emails.add(email)
                used_names.add(full_name)
                user = {"email": email, "full_name": full_name, "title": title, "login": False, "superuser": False}
                plan.users.append(user)
                return user

    logins_by_role_agency: dict[tuple[str, str | None], list[DemoLogin]] = {}
    for login in DEMO_LOGINS:
        plan.users.append(
            {
                "email": login.email,
                "full_name": login.full_name,
                "title": login.title,
                "login": True,
                "superuser": login.superuser,
                "home_agency": login.home_agency,
            }
        )
        if login.role is None or login.role == Role.KEY_ACCOUNT_MANAGER:
            continue  # placed below, with the other key account managers
        for code in login.agency_codes or (None,):
            logins_by_role_agency.setdefault((str(login.role), code), []).append(login)
            plan.roles.append((login.email, str(login.role), code))

    # Agency contacts: 1–2 IT main contacts, 2–5 system owners (more for agencies with many systems), 1 administrator.
    system_counts = {code: max(2, size + rng.randint(-2, 2)) for code, _n, _k, size, _d in AGENCIES}
    owners_by_agency: dict[str, list[str]] = {}
    for code, _name, _kind, size, _desc in AGENCIES:
        wanted = {
            Role.AGENCY_IT_CONTACT: rng.randint(1, 2),
            Role.SYSTEM_OWNER: max(2, min(5, 1 + size // 6 + rng.randint(0, 1))),
            Role.AGENCY_ADMIN: 1,
        }
        titles = {
            Role.AGENCY_IT_CONTACT: IT_CONTACT_TITLES,
            Role.SYSTEM_OWNER: SYSTEM_OWNER_TITLES,
            Role.AGENCY_ADMIN: AGENCY_ADMIN_TITLES,
        }
        for role, count in wanted.items():
            emails = [login.email for login in logins_by_role_agency.get((str(role), code), [])]
            while len(emails) < count:
                email = person(rng.choice(titles[role]))["email"]
                plan.roles.append((email, str(role), code))
                emails.append(email)
            if role == Role.SYSTEM_OWNER:
                owners_by_agency[code] = emails

    # Key account managers: the demo login serves its five agencies; seven more share the other 45.
    kam_login = next(login for login in DEMO_LOGINS if login.role == Role.KEY_ACCOUNT_MANAGER)
    for code in kam_login.agency_codes:
        plan.roles.append((kam_login.email, str(Role.KEY_ACCOUNT_MANAGER), code))
    others = [code for code, *_ in AGENCIES if code not in kam_login.agency_codes]
    rng.shuffle(others)
    kams = [person("Kundeansvarlig, UKE")["email"] for _ in range(N_KEY_ACCOUNT_MANAGERS - 1)]
    for i, code in enumerate(others):
        plan.roles.append((kams[i % len(kams)], str(Role.KEY_ACCOUNT_MANAGER), code))

    # Global roles, counting the demo logins.
    for role, (count, title) in N_GLOBAL.items():
        have = len(logins_by_role_agency.get((str(role), None), []))
        for _ in range(count - have):
            plan.roles.append((person(title)["email"], str(role), None))

    # Systems.
    crit_names, crit_weights = list(CRITICALITY_WEIGHTS), list(CRITICALITY_WEIGHTS.values())
    agency_services = {a["short_code"]: a["services"] for a in plan.agencies}
    for code, name, kind, _size, _desc in AGENCIES:
        pool = list(
            dict.fromkeys((DISTRICT_SYSTEMS if kind == DISTRICT else AGENCY_SYSTEMS.get(code, [])) + GENERIC_SYSTEMS)
        )
        specific = len(DISTRICT_SYSTEMS if kind == DISTRICT else AGENCY_SYSTEMS.get(code, []))
        count = min(system_counts[code], len(pool))
        # Mostly the agency's own kind of systems, topped up with common administrative ones.
        own = rng.sample(pool[:specific], min(specific, max(count - count // 3, count - len(pool) + specific)))
        names = own + rng.sample(pool[specific:], count - len(own))
        owners = list(owners_by_agency[code])
        rng.shuffle(owners)
        runs_on = [s for s in SYSTEM_SERVICES if s in agency_services[code]]
        for i, system_name in enumerate(sorted(names)):
            owner = owners[i] if i < len(owners) else rng.choice(owners)  # every owner owns at least one
            criticality = rng.choices(crit_names, crit_weights)[0]
            if system_name.startswith(CRITICAL_HINTS) and criticality in ("low", "medium"):
                criticality = "high"
            services = sorted(rng.sample(runs_on, rng.randint(1, min(3, len(runs_on))))) if runs_on else []
            product, _, purpose = system_name.partition(" – ")
            what = f"{product} for {purpose}" if purpose else product
            plan.systems.append(
                {
                    "agency": code,
                    "name": system_name,
                    "owner": owner,
                    "criticality": criticality,
                    "description": f"{what} i {name}.",
                    "services": services,
                }
            )
    return plan


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
@dataclass
class LoadResult:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())


def _sync(model, rows: list[dict], fields: list[str], existing: dict, key, restore: bool) -> tuple[int, int]:
    """Bulk-create the rows missing from ``existing`` (keyed by ``key(row)``).

    With ``restore``, existing rows whose fields differ from the demo values are updated back to them.
    Returns (created, updated).
    """
    to_create, to_update = [], []
    for row in rows:
        obj = existing.get(key(row))
        if obj is None:
            to_create.append(model(**{f: row[f] for f in fields}))
        elif restore and any(getattr(obj, f) != row[f] for f in fields):
            for f in fields:
                setattr(obj, f, row[f])
            to_update.append(obj)
    model.objects.bulk_create(to_create)
    if to_update:
        update_fields = list(fields)
        if any(f.name == "updated" for f in model._meta.fields):  # bulk_update does not touch auto_now
            now = timezone.now()
            for obj in to_update:
                obj.updated = now
            update_fields.append("updated")
        model.objects.bulk_update(to_update, update_fields)
    return len(to_create), len(to_update)


def _add_links(through, left: str, right: str, wanted: set[tuple[int, int]]) -> int:
    """Bulk-create the missing rows of an M2M through table; returns how many."""
    have = set(through.objects.values_list(f"{left}_id", f"{right}_id"))
    missing = sorted(wanted - have)
    through.objects.bulk_create([through(**{f"{left}_id": a, f"{right}_id": b}) for a, b in missing])
    return len(missing)


def load(
    plan: Plan,
    *,
    password: str = DEFAULT_PASSWORD,
    organisation_name: str | None = None,
    restore: bool = False,
) -> LoadResult:
    """Write ``plan`` to the database; running it again with the same plan changes nothing.

    Rows are matched by natural key and only missing ones are created, so edits made in Kompass survive
    a re-run (``make run`` loads the demo data at every start). ``restore=True`` also puts existing demo
    rows back to their demo values. The demo logins always get their role, flags and the demo password.

    Everything runs in one transaction with auditlog switched off: this is a bulk demo load, not a change
    made by a person, and a thousand audit entries would bury the real history and slow the load down.
    """
    from auditlog.context import disable_auditlog
    from django.conf import settings

    from kompass.core.models import Agency, Organisation, RoleAssignment, Service, System, User

    started = time.perf_counter()
    result = LoadResult()
    created, updated = result.created, result.updated
    with transaction.atomic(), disable_auditlog():
        # The organisation (a single row): fill in what is blank; rename only when asked to.
        org = Organisation.objects.order_by("pk").first()
        if org is None:
            org = Organisation(name=organisation_name or settings.KOMPASS_ORGANISATION_NAME)
            created["organisation"] = 1
        wanted = {"it_agency_name": IT_AGENCY_NAME, "support_email": SUPPORT_EMAIL}
        changes = {k: v for k, v in wanted.items() if (restore or not getattr(org, k)) and getattr(org, k) != v}
        if organisation_name and org.name != organisation_name:
            changes["name"] = organisation_name
        if changes or org.pk is None:
            updated["organisation"] = int(org.pk is not None)
            for k, v in changes.items():
                setattr(org, k, v)
            org.save()

        # Services, keyed by name.
        created["services"], updated["services"] = _sync(
            Service,
            plan.services,
            ["name", "description", "owning_team", "delivery", "vendor_name"],
            {s.name: s for s in Service.objects.all()},
            lambda r: r["name"],
            restore,
        )
        services = dict(Service.objects.values_list("name", "pk"))

        # Agencies, keyed by short code, and the services they take.
        created["agencies"], updated["agencies"] = _sync(
            Agency,
            plan.agencies,
            ["short_code", "name", "kind", "organisation_number", "description"],
            {a.short_code: a for a in Agency.objects.all()},
            lambda r: r["short_code"],
            restore,
        )
        agencies = dict(Agency.objects.values_list("short_code", "pk"))
        created["agency services"] = _add_links(
            Agency.services.through,
            "agency",
            "service",
            {(agencies[a["short_code"]], services[s]) for a in plan.agencies for s in a["services"]},
        )

        # Users, keyed by e-mail (stored lower-case). Contacts get unusable passwords.
        existing = {u.email.lower(): u for u in User.objects.all()}
        to_create, to_update = [], []
        for row in plan.users:
            flags = {"is_superuser": row["superuser"], "is_staff": row["superuser"], "is_active": True}
            if row.get("home_agency"):
                flags["home_agency_id"] = agencies[row["home_agency"]]
            user = existing.get(row["email"])
            if user is None:
                user = User(email=row["email"], full_name=row["full_name"], title=row["title"], **flags)
                user.password = make_password(None)  # unusable; the demo logins get theirs below
                to_create.append(user)
                continue
            wanted = {"full_name": row["full_name"], "title": row["title"]} if restore else {}
            if row["login"]:
                wanted.update(flags)
            if any(getattr(user, k) != v for k, v in wanted.items()):
                for k, v in wanted.items():
                    setattr(user, k, v)
                to_update.append(user)
        User.objects.bulk_create(to_create)
        if to_update:
            User.objects.bulk_update(
                to_update, ["full_name", "title", "is_superuser", "is_staff", "is_active", "home_agency"]
            )
        created["users"], updated["users"] = len(to_create), len(to_update)
        users = {email.lower(): pk for email, pk in User.objects.values_list("email", "pk")}

        # The demo password: hashing is the slow part, so hash once, and only where the stored hash is stale.
        logins = list(User.objects.filter(pk__in=[users[row["email"]] for row in plan.users if row["login"]]))
        verified: dict[str, bool] = {}
        for user in logins:
            if user.password not in verified:  # unusable passwords never match; skip the (slow) fake check
                usable = is_password_usable(user.password)
                verified[user.password] = usable and check_password(password, user.password)
        stale = [user for user in logins if not verified[user.password]]
        if stale:
            encoded = make_password(password)
            for user in stale:
                user.password = encoded
            User.objects.bulk_update(stale, ["password"])
        updated["demo passwords"] = len(stale)

        # Role assignments, keyed by (user, role, agency).
        have = set(RoleAssignment.objects.values_list("user_id", "role", "agency_id"))
        missing = []
        for email, role, code in plan.roles:
            triple = (users[email], role, agencies[code] if code else None)
            if triple not in have:
                have.add(triple)
                missing.append(RoleAssignment(user_id=triple[0], role=role, agency_id=triple[2]))
        RoleAssignment.objects.bulk_create(missing)
        created["role assignments"] = len(missing)

        # Systems, keyed by (agency, name), and the services they run on.
        rows = [
            {
                "agency_id": agencies[s["agency"]],
                "name": s["name"],
                "system_owner_id": users[s["owner"]],
                "criticality": s["criticality"],
                "description": s["description"],
            }
            for s in plan.systems
        ]
        created["systems"], updated["systems"] = _sync(
            System,
            rows,
            ["agency_id", "name", "system_owner_id", "criticality", "description"],
            {(s.agency_id, s.name): s for s in System.objects.all()},
            lambda r: (r["agency_id"], r["name"]),
            restore,
        )
        systems = {(a, n): pk for pk, a, n in System.objects.values_list("pk", "agency_id", "name")}
        created["system services"] = _add_links(
            System.services.through,
            "system",
            "service",
            {(systems[(agencies[s["agency"]], s["name"])], services[n]) for s in plan.systems for n in s["services"]},
        )

    result.totals = {
        "agencies": Agency.objects.count(),
        "services": Service.objects.count(),
        "users": User.objects.count(),
        "role assignments": RoleAssignment.objects.count(),
        "systems": System.objects.count(),
    }
    result.seconds = time.perf_counter() - started
    return result


def database_digest() -> str:
    """A digest of the database's agencies, services, users, roles and systems by natural keys.

    Primary keys and timestamps are left out, so two loads of the same plan into empty databases give the
    same digest; on a database holding only demo data it equals ``Plan.digest()``.
    """
    from kompass.core.models import Agency, RoleAssignment, Service, System, User

    data = {
        "services": sorted(Service.objects.values_list("name", "owning_team", "delivery", "vendor_name")),
        "agencies": sorted(
            (a.short_code, a.name, a.kind, a.organisation_number, sorted(s.name for s in a.services.all()))
            for a in Agency.objects.prefetch_related("services")
        ),
        "users": sorted(User.objects.values_list("email", "full_name", "title")),
        "roles": sorted(
            (email, role, code or "")
            for email, role, code in RoleAssignment.objects.values_list("user__email", "role", "agency__short_code")
        ),
        "systems": sorted(
            (
                s.agency.short_code,
                s.name,
                s.system_owner.email if s.system_owner else "",
                s.criticality,
                sorted(x.name for x in s.services.all()),
            )
            for s in System.objects.select_related("agency", "system_owner").prefetch_related("services")
        ),
    }
    return _digest(data)
