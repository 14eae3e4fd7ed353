"""The shared test kit of Kompass, a pytest plugin (``kompass.testing.plugin``) loaded by the root conftest.

* :mod:`kompass.testing.cast`: the standard cast (three agencies, one user per role, a requester).
* :mod:`kompass.testing.matrix`: :func:`~kompass.testing.matrix.check_access_table`, which runs a hand-written
  role × method × URL table with session and token clients and asserts that refused writes change nothing.
* :mod:`kompass.testing.browser`: Playwright + axe helpers (``visit``, ``navigate``, ``check_a11y``, ``log_in``).
* Fixtures (from the plugin): ``agencies``, ``cast``, ``systems``, ``clients`` (per role, session or token),
  ``browser``, ``page``, ``csp_page``, ``snowsim_instance``.
"""
