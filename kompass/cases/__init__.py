"""Cases: incidents, service requests and questions (capability 1).

Only the pure SLA engine (:mod:`kompass.cases.sla`) and the e-mail intake layer (:mod:`kompass.cases.intake`)
exist so far; the Django app is built around them.
"""
