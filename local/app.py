"""One ASGI app mounting every domain router exactly as the Lambda functions do.

The routers are read from each ``functions/*/handler.py`` (its ``routers`` tuple), so a
domain function and the local app can never serve different route sets; the only addition
is the local runtime's own dev mail viewer (local/devmail.py), when mail is caught.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from fastapi import APIRouter, FastAPI

from local.web import mount_web
from servicedesk.platform.app import create_app

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"


def load_function(name: str) -> ModuleType:
    path = FUNCTIONS / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"functions_{name}_handler", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def domain_routers() -> list[APIRouter]:
    routers: list[APIRouter] = []
    for handler in sorted(FUNCTIONS.glob("*/handler.py")):
        module = load_function(handler.parent.name)
        for router in getattr(module, "routers", ()):
            if router not in routers:
                routers.append(router)
    return routers


def local_routers() -> list[APIRouter]:
    """What only the local runtime serves: the dev mail viewer, when mail is caught."""
    from local import devmail
    from servicedesk.platform.config import get_settings

    return [devmail.router] if get_settings().mail_catcher_dir else []


def build_app() -> FastAPI:
    app = create_app(*domain_routers(), *local_routers())
    mount_web(app)  # the built web app (web/dist), on paths no route answers
    return app
