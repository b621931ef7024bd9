"""CloudFront's viewer-request function (stacks/web.py), run by Node as CloudFront runs
it: the runtime config at the edge, a 404 problem for the root paths that are not the
app's (servicedesk.platform.webpaths), index.html for the app's routes, files as they are."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from servicedesk.platform import webpaths
from stacks.web import viewer_request_source

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run(uris: list[str]) -> list[dict[str, Any]]:
    code = viewer_request_source('{"websocketUrl": null, "apiBase": "/v1"}')
    script = (
        code
        + "\nconst uris = JSON.parse(process.argv[1]);\n"
        + "console.log(JSON.stringify(uris.map((uri) => handler({ request: { uri } }))));\n"
    )
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", script, json.dumps(uris)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_root_api_paths_answer_a_404_problem_never_the_app() -> None:
    paths = [
        *webpaths.NOT_APP_PREFIXES,
        "/graphql/",
        "/api/v1/tickets",
        "/scim/v2/Users",
        "/.well-known/security.txt",
    ]
    for path, answer in zip(paths, run(paths), strict=True):
        assert answer["statusCode"] == 404, path
        assert answer["headers"]["content-type"]["value"] == "application/problem+json"
        problem = json.loads(answer["body"])
        assert problem["status"] == 404 and problem["type"].endswith("/not-found")
        assert "/v1" in problem["detail"]


def test_the_apps_routes_get_index_and_files_pass_through() -> None:
    paths = ["/tickets/123", "/graphqlish", "/apis", "/assets/index-abc.js", "/"]
    answers = run(paths)
    assert [a.get("uri") for a in answers[:3]] == ["/index.html"] * 3
    assert answers[3]["uri"] == "/assets/index-abc.js"
    config = run(["/config.json"])[0]
    assert config["statusCode"] == 200
    assert json.loads(config["body"]) == {"websocketUrl": None, "apiBase": "/v1"}
