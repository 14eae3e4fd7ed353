"""The surveys app's rows of the access matrix (autodiscovered).

The agreement managers run the surveys (templates, campaigns, rules) and see every result; a key account
manager sees the results, actions, meetings and cockpit of the agencies they serve and works on their
actions and meetings there. Raw answers, invitations and their links are for nobody but administrators:
every result is read through ``ResultCell`` under the small-group rule (``services.grid``). Respondents
need no role at all: their personal link is their only key.
"""

from kompass.core import access
from kompass.core.access import AGENCY, ALL, own
from kompass.core.roles import Role
from kompass.surveys.models import (
    Action,
    Answer,
    Campaign,
    CommentTag,
    CommentTagging,
    FollowUpRule,
    Invitation,
    Meeting,
    MeetingParticipant,
    Question,
    Response,
    ResultCell,
    SurveyTemplate,
)

AM, KAM = Role.AGREEMENT_MANAGER, Role.KEY_ACCOUNT_MANAGER
_SEE = {AM: ALL, KAM: AGENCY}  # on models without an agency: a key account manager of any agency
_RUN = {AM: ALL}

access.register(SurveyTemplate, rules={"view": _SEE, "create": _RUN, "change": _RUN})
access.register(Question, rules={"view": _SEE, "create": _RUN, "change": _RUN})
access.register(
    Campaign,
    rules={"view": _SEE, "create": _RUN, "change": _RUN, "run": _RUN},
    actions=("run",),
)
access.register(ResultCell, rules={"view": _SEE})
# Tags are the agreement managers' vocabulary; whoever reads an agency's comments may tag them.
access.register(CommentTag, rules={"view": _SEE, "create": _RUN, "change": _RUN, "delete": _RUN})
access.register(CommentTagging, rules={"view": _SEE, "create": _SEE, "delete": _SEE})
access.register(FollowUpRule, rules={"view": _SEE, "create": _RUN, "change": _RUN, "delete": _RUN})
access.register(
    Action,
    rules={
        "view": {**_SEE, Role.AGENCY_ADMIN: AGENCY},
        "create": _SEE,
        "change": _SEE,
        # The owner closes their own action (an agency's administrator may own one from a meeting).
        "close": {**_SEE, Role.AGENCY_ADMIN: own("owner")},
    },
    actions=("close",),
)
access.register(Meeting, rules={"view": _SEE, "create": _SEE, "change": _SEE})
access.register(
    MeetingParticipant,
    rules={"view": {**_SEE, access.REQUESTER: own("user")}, "create": _SEE, "change": _SEE},
)
for internal in (Invitation, Response, Answer):
    access.register_internal(internal)
