"""The surveys app's audit registrations (autodiscovered).

Invitations, responses, answers and result cells are deliberately **not** audited: an audit entry's
moment and actor would tie an anonymous answer to its invitation and person.
"""

from auditlog.registry import auditlog

from kompass.surveys.models import Action, Campaign, FollowUpRule, Meeting, MeetingParticipant, Question, SurveyTemplate

auditlog.register(SurveyTemplate, exclude_fields=["questions", "campaigns"])
auditlog.register(Question)
auditlog.register(Campaign, exclude_fields=["invited", "answered", "invitations", "responses", "cells"])
auditlog.register(FollowUpRule, exclude_fields=["actions"])
auditlog.register(Action, exclude_fields=["overdue_notified"])
auditlog.register(Meeting, m2m_fields={"agencies"}, exclude_fields=["participants", "actions"])
auditlog.register(MeetingParticipant)
