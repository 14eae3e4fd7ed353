"""Root conftest: load the shared test kit (``kompass/testing``) for every test, Kompass's and snowsim's."""

pytest_plugins = ["kompass.testing.plugin"]
