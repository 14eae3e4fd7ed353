"""The shared test kit of Kompass, a pytest plugin (``kompass.testing.plugin``) loaded by the root conftest.

* :mod:`kompass.testing.cast`: the standard cast (three agencies, one user per role, a requester).
* :mod:`kompass.testing.matrix`: :func:`~kompass.testing.matrix.check_access_table`, which runs a hand-written
  role × method × URL table with session and token clients and asserts that refused writes change nothing.
* :mod:`kompass.testing.browser`: Playwright + axe helpers (``visit``, ``navigate``, ``check_a11y``, ``log_in``).
* :mod:`kompass.testing.split`: shares (``all``, ``none``, ``i/n``) by which CI's two runs split the checks whose
  answer cannot depend on the database (the crawl's axe checks, schemathesis' parsing-and-validation cases).
* :mod:`kompass.testing.server`: a one-thread HTTP server on the test database for one-request-at-a-time
  clients (schemathesis); :mod:`kompass.testing.schemathesis_hooks`: the hooks ``st run`` loads.
* Fixtures (from the plugin): ``agencies``, ``cast``, ``systems``, ``clients`` (per role, session or token),
  ``browser``, ``page``, ``csp_page``, ``snowsim_instance``.
"""
