"""Root conftest: load the shared test kit (``kompass/testing``) for every test, Kompass's and snowsim's.

Hypothesis runs without its per-example deadline: a deadline is a timed assertion, and timing belongs in
``bench/`` (a first example that builds a year's holiday table, or a loaded CI machine, is not a bug).
"""

from hypothesis import settings

settings.register_profile("kompass", deadline=None)
settings.load_profile("kompass")

pytest_plugins = ["kompass.testing.plugin"]
