"""Cases: incidents, service requests and questions (capability 1).

Only the pure SLA engine (:mod:`kompass.cases.sla`) exists so far; the Django app is built around it.
"""
