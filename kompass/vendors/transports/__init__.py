"""Transports: how Kompass talks to each kind of vendor system. One module per kind."""

from kompass.vendors.transports.base import Transport
from kompass.vendors.transports.email import EmailTransport
from kompass.vendors.transports.servicenow import ServiceNowTransport, TransportError

TRANSPORTS = {"servicenow": ServiceNowTransport, "email": EmailTransport}


def transport_for(connection):
    return TRANSPORTS[connection.kind](connection)


__all__ = ["TRANSPORTS", "EmailTransport", "ServiceNowTransport", "Transport", "TransportError", "transport_for"]
