"""The documents generated from the code (docs/) are the ones checked in."""

import json
import shutil
import subprocess
import sys

from tests.deploy.support import ROOT

DOCS = ROOT / "docs"


def gen_docs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.gen_docs", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_the_checked_in_api_and_configuration_documents_are_current():
    result = gen_docs("--check")

    assert result.returncode == 0, f"{result.stdout}{result.stderr}"


def test_the_check_names_a_document_that_no_longer_matches_the_code(tmp_path):
    for name in ("openapi.json", "asyncapi.json", "configuration.md"):
        shutil.copy(DOCS / name, tmp_path / name)
    (tmp_path / "configuration.md").write_text("out of date\n")

    result = gen_docs(
        "--check", "--out", str(tmp_path), "--only", "configuration", "--only", "openapi"
    )

    assert result.returncode == 1
    assert "configuration.md" in result.stdout
    assert "openapi.json" not in result.stdout


def test_the_asyncapi_document_covers_all_three_topics_and_every_event_type():
    from shared.events import EVENT_TYPES

    document = json.loads((DOCS / "asyncapi.json").read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    schemas = document["components"]["schemas"]

    assert addresses >= {"tenants.events", "auth.events", "usercache.events"}
    for event_cls in EVENT_TYPES.values():
        envelope = schemas[f"{event_cls.__name__}Envelope"]
        assert envelope["properties"]["type"]["const"] == event_cls.type


def test_the_openapi_document_is_the_gateways_public_api_only():
    document = json.loads((DOCS / "openapi.json").read_text())

    assert document["paths"], "the gateway serves no public route"
    assert not {"/healthz", "/readyz", "/metrics"} & document["paths"].keys()
    assert not [path for path in document["paths"] if path.startswith("/internal")]


def test_the_configuration_reference_lists_every_setting_of_every_service():
    from tools.settings_catalog import catalog

    text = (DOCS / "configuration.md").read_text()

    for row in catalog():
        assert f"| `{row.env}` |" in text
