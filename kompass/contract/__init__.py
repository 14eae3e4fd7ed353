"""The contract requirements register (issue #9): contracts, milestones, requirements, evidence, import/export.

* :mod:`.models`: ``Contract`` (with its vendor representatives), ``Milestone``, ``Requirement``, ``Evidence``,
  ``RequirementComment``.
* :mod:`.services`: the status workflow (``set_status``, ``bulk_set_status``), evidence (``add_evidence``,
  case references through a pluggable lookup), ``progress``.
* :mod:`.imports`: the requirement specification's :class:`~kompass.core.imports.ImportSpec` (the core machinery
  does the reading, mapping, validation, diff and atomic apply) and the export columns.
* :mod:`.access`: the app's rows of the matrix; the vendor representative role reaches only the contracts
  that name the user in ``Contract.vendor_representatives``.
"""
