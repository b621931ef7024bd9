"""The e-mail channel: mail in (intake, parsing, threading) and its configuration."""
