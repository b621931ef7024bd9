"""The action vocabulary macros and automation rules share (docs/actions.md).

``schemas`` defines the actions, ``placeholders`` the closed set of ``{{...}}`` names a
template may use and their safe rendering, ``executor`` applies a list of actions to one
ticket through the tickets services (one transaction, one timeline entry per change).
"""
