"""The surveys app's audit registrations (autodiscovered).

Invitations, responses, answers and result cells are deliberately **not** audited: an audit entry's
moment and actor would tie an anonymous answer to its invitation and person.
"""

from auditlog.registry import auditlog

from kompass.core.audit import reverse_relations
from kompass.surveys.models import Action, Campaign, FollowUpRule, Meeting, MeetingParticipant, Question, SurveyTemplate

# Reverse relations (also those other apps add) are audited on their own objects: found, not listed.
auditlog.register(SurveyTemplate, exclude_fields=reverse_relations(SurveyTemplate))
auditlog.register(Question, exclude_fields=reverse_relations(Question))
auditlog.register(Campaign, exclude_fields=[*reverse_relations(Campaign), "invited", "answered"])
auditlog.register(FollowUpRule, exclude_fields=reverse_relations(FollowUpRule))
auditlog.register(Action, exclude_fields=[*reverse_relations(Action), "overdue_notified"])
auditlog.register(Meeting, m2m_fields={"agencies"}, exclude_fields=reverse_relations(Meeting))
auditlog.register(MeetingParticipant, exclude_fields=reverse_relations(MeetingParticipant))
