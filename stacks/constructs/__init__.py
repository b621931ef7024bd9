"""Shared constructs for the Servicedesk stacks."""

from stacks.constructs.domain_function import REPO_ROOT, DomainFunction, SharedLayers

__all__ = ["REPO_ROOT", "DomainFunction", "SharedLayers"]
