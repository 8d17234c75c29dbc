"""Documentation generated from code cannot drift: settings, routes, the CI command."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from openapi_spec_validator import validate
from starlette.routing import Route

from tests.conftest import Server
from wabox.api.openapi import DOCS, ApiRoute, openapi_document
from wabox.app import routes
from wabox.config import SETTINGS, Config

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_settings_table_matches_config() -> None:
    table = README.split("<!-- settings-table")[1].split("<!-- /settings-table -->")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `WABOX_")]
    expected = [f"| `{s.env}` | `{s.default}` | {s.help} |" for s in SETTINGS]
    assert rows == expected


def test_every_setting_has_an_env_twin_and_a_config_field() -> None:
    fields = set(Config.__dataclass_fields__)
    for setting in SETTINGS:
        assert setting.env == "WABOX_" + setting.name.upper()
        assert setting.name in fields


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    commands = re.findall(r"```sh\n(.+?)\n```", README)
    test_command = commands[1]
    assert "pytest" in test_command
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


def _documented_paths() -> set[tuple[str, str]]:
    paths = openapi_document(routes())["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def test_openapi_document_is_valid_and_covers_every_api_route() -> None:
    document = openapi_document(routes())
    validate(document)
    documented = _documented_paths()
    served = {
        (method, re.sub(r":\w+}", "}", route.path))
        for route in routes()
        if isinstance(route, Route)
        for method in (route.methods or ())
        if method != "HEAD"
        and route.include_in_schema  # left out on purpose: the docs, unversioned aliases
        and not (route.path == "/" or route.path.startswith("/ui/"))
    }  # the inbox's pages (wabox.ui) are not part of the API
    left_out = {route.path for route in routes() if isinstance(route, ApiRoute)} - {
        route.path for route in routes() if isinstance(route, ApiRoute) and route.include_in_schema
    }
    assert left_out == {
        "/openapi.json",
        "/docs",
        "/{phone_number_id:digits}/messages",
        "/{phone_number_id:digits}/media",
        "/{waba_id:digits}/message_templates",
    }
    assert served == documented


def test_every_api_operation_is_described_once() -> None:
    documented = [
        route.endpoint
        for route in routes()
        if isinstance(route, ApiRoute) and route.include_in_schema
    ]
    assert len(documented) == len(set(documented))
    assert set(DOCS) == set(documented)  # no description left behind by a removed route
    for path_item in openapi_document(routes())["paths"].values():
        for operation in path_item.values():
            assert operation["summary"], operation["operationId"]


def test_docs_page_is_served_without_a_cdn(server: Server) -> None:
    page = httpx.get(f"{server.base_url}/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for _, path in _documented_paths():
        assert path in page.text
    assert not re.search(r"""(src|href)=["']https?://""", page.text)
    served = httpx.get(f"{server.base_url}/openapi.json").json()
    assert served == openapi_document(routes())
