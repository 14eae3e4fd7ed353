"""Temperature surveys and agency dialogue (issue #11).

* :mod:`.models`: versioned ``SurveyTemplate``/``Question``; ``Campaign`` with its ``Invitation`` rows (only a
  hash of each personal link); ``Response``/``Answer`` (anonymous: no link back to the invitation);
  ``ResultCell`` (the aggregates every result page reads); ``FollowUpRule``, ``Action``; ``Meeting`` and
  ``MeetingParticipant``.
* :mod:`.services`: campaigns, links, answering, results with the small-group rule, follow-up, dialogue.
* :mod:`.access`: the app's rows of the matrix.
"""
