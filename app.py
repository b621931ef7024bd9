#!/usr/bin/env python3
"""CDK entry point: ``npx cdk synth`` / ``npx cdk deploy --all`` (see docs/deploy.md)."""

from __future__ import annotations

import os

from aws_cdk import App, Environment

from stacks import build_app


def main() -> None:
    app = App()
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    env = Environment(account=account, region=region) if account and region else None
    build_app(app, env)
    app.synth()


if __name__ == "__main__":
    main()
