"""Shared constructs for the Servicedesk stacks, one concern each.

``DomainFunction`` and ``SharedLayers`` are CDK constructs with their own scope. The concern
constructs a stack is assembled from (``Network``, ``Database``, ``Migrations``, ...) are plain
classes that build their resources directly in the stack they are given: a construct scope
would add a level to every resource's path, so every logical ID would change and
CloudFormation would replace the VPC, the cluster, the API. Their resources keep the IDs they
had when the stacks were written as one body.
"""

from stacks.constructs.domain_function import REPO_ROOT, DomainFunction, SharedLayers

__all__ = ["REPO_ROOT", "DomainFunction", "SharedLayers"]
