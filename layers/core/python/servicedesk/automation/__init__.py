"""Automation rules (docs/automation.md): event rules run in the transaction of the ticket
change that fires them, time rules by a schedule; conditions compile to Python and SQL
(``conditions``), actions are the shared vocabulary (``servicedesk.actions``)."""
