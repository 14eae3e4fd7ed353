"""snowsim: a faithful ServiceNow REST simulator (Table, Attachment, Batch and OAuth APIs).

See docs/servicenow-simulator.md. snowsim never imports Django.
"""

__version__ = "0.1.0"
