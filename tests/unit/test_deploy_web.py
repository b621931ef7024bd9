"""scripts/deploy_web.py before it talks to AWS (the uploads themselves run against the AWS
emulator over real HTTP in tests/integration/test_deploy_web.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.deploy_web import deploy


def test_refuses_an_unbuilt_app(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make web"):
        deploy(tmp_path, "any", None, s3=None, cloudfront=None)
