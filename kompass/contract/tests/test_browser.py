"""The register's story in the browser, every page axe-checked: the agreement manager imports a specification
(fixing the column mapping), applies it and marks the requirements verified; both parties approve the
protocol (password again), and the last approval signs it."""

import pytest

from kompass.contract.models import ApprovalProtocol, Requirement
from kompass.core.imports.testing import make_xlsx
from kompass.testing.browser import check_a11y, log_in, navigate, visit
from kompass.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.KOMPASS_SIGNING_DIR = tmp_path / "signing"
    settings.MEDIA_ROOT = tmp_path / "media"


def test_import_verify_approve_and_sign(browser, page, live_server, cast, contract, rep, tmp_path):
    from kompass.core.models import Organisation

    Organisation.current()
    base = live_server.url
    sheet = tmp_path / "kravspesifikasjon.xlsx"
    sheet.write_bytes(
        make_xlsx(
            [
                ["Bilag 2 Kravspesifikasjon"],
                ["Nummer", "Kravtekst", "Status"],  # "Nummer" is no known header: the ID column must be mapped
                [None, "1 Drift"],
                ["1.1", "Leverandøren skal overvåke tjenestene hele døgnet.", "Klar"],
                ["1.10", "Leverandøren skal varsle kunden ved avvik innen 15 minutter.", "Klar"],
            ]
        )
    )

    # The agreement manager uploads the specification and fixes the mapping.
    log_in(page, base, cast["agreement"].email, PASSWORD)
    visit(page, f"{base}/contract/{contract.pk}/")
    navigate(page, lambda: page.locator(f"main a[href='/contract/{contract.pk}/import/']").click())
    page.locator("main input[name=file]").set_input_files(str(sheet))
    navigate(page, lambda: page.locator("main form[data-testid=import-upload] button[type=submit]").click())
    assert page.get_by_test_id("import-errors").is_visible()
    page.locator("#id_column_1").select_option("requirement_id")
    navigate(page, lambda: page.locator("main form[data-testid=import-mapping] button[type=submit]").click())
    assert not page.get_by_test_id("import-errors").count()
    assert not Requirement.objects.exists()  # nothing before apply
    navigate(page, lambda: page.locator("main form[data-testid=import-apply] button[type=submit]").click())
    assert dict(Requirement.objects.values_list("requirement_id", "chapter")) == {"1.1": "1 Drift", "1.10": "1 Drift"}

    # … marks both verified with a comment …
    visit(page, f"{base}/contract/{contract.pk}/requirements/")
    for requirement in Requirement.objects.all():
        page.locator(f"#pick-{requirement.pk}").check()
    page.locator("#bulk-form select[name=status]").select_option("verified")
    page.locator("#bulk-form textarea[name=comment]").fill("Verifisert ved driftsovertakelsen.")
    navigate(page, lambda: page.locator("#bulk-form button[type=submit]").click())
    assert set(Requirement.objects.values_list("status", flat=True)) == {"verified"}

    # … opens the protocol for the whole contract and approves it with the password.
    visit(page, f"{base}/contract/{contract.pk}/")
    navigate(page, lambda: page.locator(f"main form[action='/contract/{contract.pk}/protocols/new/'] button").click())
    protocol = ApprovalProtocol.objects.get()
    page.locator("main input[name=password]").fill(PASSWORD)
    navigate(page, lambda: page.locator("main form[aria-label] button[type=submit]").last.click())
    assert protocol.approvals.count() == 1

    # The vendor's representative approves: the protocol is signed.
    vendor = browser.new_context(bypass_csp=True, locale="nb-NO")
    vendor_page = vendor.new_page()
    try:
        log_in(vendor_page, base, rep.email, PASSWORD)
        visit(vendor_page, f"{base}{protocol.get_absolute_url()}")
        vendor_page.locator("main input[name=password]").fill(PASSWORD)
        navigate(vendor_page, lambda: vendor_page.locator("main form[aria-label] button[type=submit]").last.click())
        assert vendor_page.get_by_test_id("protocol-status").inner_text().strip() == "Signert"
        check_a11y(vendor_page)
    finally:
        vendor.close()
    protocol.refresh_from_db()
    assert protocol.is_signed and len(protocol.sha256) == 64
    assert protocol.entries.filter(status="verified").count() == 2
