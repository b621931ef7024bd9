"""Macros and canned responses (docs/macros.md): a named list of actions an agent applies
to a ticket in one step, personal or shared with a team or the tenant; the ``apply_macro``
action of automation rules (``actions``)."""
