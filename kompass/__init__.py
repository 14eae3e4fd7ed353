"""Kompass: a municipality's own service-integration platform."""

__version__ = "0.1.0"
