"""Transports: how Kompass talks to each kind of vendor system. One module per kind."""

from kompass.vendors.transports.base import Transport
from kompass.vendors.transports.servicenow import ServiceNowTransport, TransportError

TRANSPORTS = {"servicenow": ServiceNowTransport}


def transport_for(connection):
    return TRANSPORTS[connection.kind](connection)


__all__ = ["TRANSPORTS", "ServiceNowTransport", "Transport", "TransportError", "transport_for"]
