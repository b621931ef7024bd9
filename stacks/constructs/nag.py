"""cdk-nag 3 acknowledgments (``Validations.of(x).acknowledge``), with a reason each.

cdk-nag 3 matches findings exactly: a rule with several findings on one resource (IAM5) needs
one acknowledgment per finding, e.g. ``AwsSolutions-IAM5[Resource::*]``. An acknowledgment on a
construct covers every resource below it.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rules: dict[str, str]) -> None:
    """Acknowledge each ``rule id -> reason`` on ``scope`` and everything below it."""
    Validations.of(scope).acknowledge(
        *(Acknowledgment(id=rule, reason=reason) for rule, reason in rules.items())
    )
