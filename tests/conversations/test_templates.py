"""Templates: the registry in both dialects, and sending checked against it (wire-facts §1.5,
§4.3 132xxx)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.delivery.helpers import advance, client, new_channel
from tests.helpers import assert_graph_error, eventually, message, stored
from tests.links.origin import Origin
from wabox.samples import sample_path

ORDER = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships today."},
    {"type": "FOOTER", "text": "Reply STOP to opt out"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "URL", "text": "Track", "url": "https://shop.example/track/{{1}}"},
            {"type": "QUICK_REPLY", "text": "Thanks"},
        ],
    },
]


def create(server: Server, channel: dict[str, Any], **spec: Any) -> dict[str, Any]:
    spec.setdefault("language", "en_US")
    spec.setdefault("category", "UTILITY")
    with server.admin() as admin:
        response = admin.post(
            "/sandbox/templates", json={"channel": channel["phone_number_id"], **spec}
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


def send_template(
    server: Server, channel: dict[str, Any], template: dict[str, Any]
) -> httpx.Response:
    with client(server, channel) as c:
        return c.post("/messages", json=message("template", template, to="16505552000"))


def test_360dialog_registry_create_list_delete(server: Server) -> None:
    channel = new_channel(server)
    headers = {"D360-API-KEY": channel["api_key"]}
    with httpx.Client(base_url=server.base_url, headers=headers) as d360:
        created = d360.post(
            "/v1/configs/templates",
            json={
                "name": "order_update",
                "language": "en_US",
                "category": "utility",
                "components": ORDER,
            },
        )
        assert created.status_code == 201, created.text
        assert set(created.json()) == {"id", "status", "category"}
        assert created.json()["status"] == "APPROVED"
        assert created.json()["category"] == "UTILITY"
        again = d360.post(
            "/v1/configs/templates",
            json={
                "name": "order_update",
                "language": "en_US",
                "category": "UTILITY",
                "components": ORDER,
            },
        )
        assert_graph_error(again, status=400, code=100, contains="already exists")
        d360.post(
            "/v1/configs/templates",
            json={
                "name": "order_update",
                "language": "de",
                "category": "UTILITY",
                "components": [{"type": "BODY", "text": "Hallo {{1}}"}],
            },
        )
        listed = d360.get("/v1/configs/templates").json()
        assert (listed["count"], listed["total"], listed["offset"]) == (2, 2, 0)
        assert {t["language"] for t in listed["waba_templates"]} == {"en_US", "de"}
        first = listed["waba_templates"][1]  # by name, then language: de, en_US
        assert first["status"] == "approved" and first["category"] == "UTILITY"
        assert first["components"][0] == {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}
        filtered = d360.get(
            "/v1/configs/templates",
            params={"filters": json.dumps({"business_templates.name": "nope"})},
        ).json()
        assert (filtered["count"], filtered["waba_templates"]) == (0, [])
        paged = d360.get("/v1/configs/templates", params={"limit": 1, "offset": 1}).json()
        assert (paged["count"], paged["total"]) == (1, 2)
        deleted = d360.delete("/v1/configs/templates/order_update")
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["meta"]["success"] is True
        assert d360.get("/v1/configs/templates").json()["total"] == 0
        missing = d360.delete("/v1/configs/templates/order_update")
        assert_graph_error(missing, status=400, code=100, contains="not found")


def test_cloud_api_registry_and_isolation(server: Server) -> None:
    channel = new_channel(server)
    other = new_channel(server)
    path = f"/v21.0/{channel['waba_id']}/message_templates"
    auth = {"Authorization": f"Bearer {channel['api_key']}"}
    with httpx.Client(base_url=server.base_url, headers=auth) as cloud:
        created = cloud.post(
            path,
            json={
                "name": "welcome",
                "language": "en_US",
                "category": "MARKETING",
                "components": [{"type": "BODY", "text": "Welcome {{1}}!"}],
            },
        )
        assert created.status_code == 200, created.text
        listed = cloud.get(path, params={"summary": "total_count,message_template_count"}).json()
        (template,) = listed["data"]
        assert template["name"] == "welcome" and template["parameter_format"] == "POSITIONAL"
        assert template["status"] == "APPROVED" and template["category"] == "MARKETING"
        assert listed["summary"]["total_count"] == 1
        assert cloud.delete(path, params={"name": "welcome"}).json() == {"success": True}
        assert cloud.get(path).json()["data"] == []
    foreign = {"Authorization": f"Bearer {other['api_key']}"}
    with httpx.Client(base_url=server.base_url, headers=foreign) as intruder:
        assert_graph_error(intruder.get(path), status=400, code=100, subcode=33)


@pytest.mark.parametrize(
    ("spec", "contains"),
    [
        ({"category": "PROMO"}, "category must be one of"),
        ({"components": [{"type": "HEADER", "format": "TEXT", "text": "x"}]}, "exactly one BODY"),
        ({"components": [{"type": "BODY", "text": "Hi {{2}}"}]}, "{{1}}, {{2}}"),
        (
            {"components": [{"type": "BODY", "text": "x"}, {"type": "FOOTER", "text": "{{1}}"}]},
            "FOOTER takes no placeholders",
        ),
        ({"name": "Has Spaces"}, "name"),
        ({"status": "MAYBE"}, "status must be one of"),
    ],
)
def test_bad_templates_are_refused(server: Server, spec: dict[str, Any], contains: str) -> None:
    channel = new_channel(server)
    body = {
        "name": "bad",
        "language": "en_US",
        "category": "UTILITY",
        "channel": channel["phone_number_id"],
        "components": [{"type": "BODY", "text": "x"}],
        **spec,
    }
    with server.admin() as admin:
        response = admin.post("/sandbox/templates", json=body)
    assert_graph_error(response, status=400, code=100, contains=contains)


def test_the_stored_message_keeps_the_rendered_template(server: Server) -> None:
    channel = new_channel(server)
    create(server, channel, name="order_update", components=ORDER)
    response = send_template(
        server,
        channel,
        {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": "HEADER", "parameters": [{"type": "text", "text": "#42"}]},
                {
                    "type": "BODY",
                    "parameters": [
                        {"type": "text", "text": "Ada"},
                        {"type": "text", "text": "#42"},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": "42"}],
                },
            ],
        },
    )
    assert response.status_code == 200, response.text
    row = stored(server, response.json()["messages"][0]["id"])
    assert row["rendered"] == {
        "name": "order_update",
        "language": "en_US",
        "header": {"type": "text", "text": "Order #42"},
        "body": "Hi Ada, your order #42 ships today.",
        "footer": "Reply STOP to opt out",
        "buttons": [
            {"type": "URL", "text": "Track", "url": "https://shop.example/track/42"},
            {"type": "QUICK_REPLY", "text": "Thanks", "payload": "Thanks"},  # what a tap sends
        ],
    }
    assert row["pricing"] == {"category": "utility", "type": "regular"}


def test_named_parameters(server: Server) -> None:
    channel = new_channel(server)
    create(
        server,
        channel,
        name="named",
        parameter_format="NAMED",
        components=[{"type": "BODY", "text": "Hi {{first_name}}, {{order}} is ready"}],
    )
    good = {
        "name": "named",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "parameter_name": "order", "text": "#7"},
                    {"type": "text", "parameter_name": "first_name", "text": "Ada"},
                ],
            }
        ],
    }
    response = send_template(server, channel, good)
    assert response.status_code == 200, response.text
    assert stored(server, response.json()["messages"][0]["id"])["rendered"]["body"] == (
        "Hi Ada, #7 is ready"
    )
    good["components"][0]["parameters"][0]["parameter_name"] = "total"
    assert_graph_error(
        send_template(server, channel, good), status=400, code=132000, contains="total"
    )


def test_each_template_error_with_its_code_and_status(server: Server) -> None:
    channel = new_channel(server)
    one = [{"type": "BODY", "text": "Hi {{1}}"}]
    ids = {
        status: create(server, channel, name=f"t_{status.lower()}", components=one, status=status)[
            "id"
        ]
        for status in ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")
    }
    create(
        server,
        channel,
        name="with_image",
        components=[{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Look"}],
    )
    body = {"type": "body", "parameters": [{"type": "text", "text": "Ada"}]}

    def attempt(name: str, code: str = "en_US", components: Any = (body,)) -> httpx.Response:
        template = {"name": name, "language": {"code": code}, "components": list(components)}
        return send_template(server, channel, template)

    assert attempt("t_approved").status_code == 200
    for name, language in (
        ("nope", "en_US"),
        ("t_approved", "de"),
        ("t_pending", "en_US"),
        ("t_rejected", "en_US"),
    ):
        error = assert_graph_error(attempt(name, language), status=404, code=132001)
        assert error["message"] == "(#132001) Template name does not exist in the translation"
        assert error["error_data"]["details"] == (
            f"template name ({name}) does not exist in {language}"
        )
    paused = assert_graph_error(attempt("t_paused"), status=400, code=132015)
    assert paused["message"] == "(#132015) Template is Paused"
    assert_graph_error(
        attempt("t_disabled"), status=400, code=132016, message="(#132016) Template is Disabled"
    )
    two = {"type": "body", "parameters": [{"type": "text", "text": "a"}] * 2}
    mismatch = assert_graph_error(attempt("t_approved", components=[two]), status=400, code=132000)
    assert mismatch["error_data"]["details"] == (
        "body: number of localizable_params (2) does not match the expected number of params (1)"
    )
    assert_graph_error(
        attempt("t_approved", components=[]),
        status=400,
        code=132000,
        contains="localizable_params (0)",
    )
    video = {
        "type": "header",
        "parameters": [{"type": "video", "video": {"link": "https://cdn.example.com/v.mp4"}}],
    }
    wrong = assert_graph_error(attempt("with_image", components=[video]), status=400, code=132012)
    assert (
        wrong["error_data"]["details"] == "header: Format mismatch, expected IMAGE, received VIDEO"
    )
    with server.admin() as admin:
        resumed = admin.patch(f"/sandbox/templates/{ids['PAUSED']}", json={"status": "approved"})
    assert resumed.status_code == 200 and resumed.json()["status"] == "APPROVED"
    assert attempt("t_paused").status_code == 200


def test_header_media_by_id_and_by_link(server: Server, origin: Origin) -> None:
    channel = new_channel(server, enforce_window=False)
    create(
        server,
        channel,
        name="receipt",
        components=[
            {"type": "HEADER", "format": "DOCUMENT"},
            {"type": "BODY", "text": "Your receipt"},
        ],
    )
    pdf = sample_path("document.pdf").read_bytes()
    with client(server, channel) as c:
        uploaded = c.post(
            "/media",
            data={"messaging_product": "whatsapp"},
            files={"file": ("r.pdf", pdf, "application/pdf")},
        )
    assert uploaded.status_code == 200, uploaded.text
    by_id = {
        "type": "header",
        "parameters": [
            {"type": "document", "document": {"id": uploaded.json()["id"], "filename": "r.pdf"}}
        ],
    }
    link = origin.serve("/receipt.pdf", pdf, headers={"Content-Type": "application/pdf"})
    by_link = {"type": "header", "parameters": [{"type": "document", "document": {"link": link}}]}
    broken = origin.serve("/gone.pdf", b"", status=404)
    by_broken_link = {
        "type": "header",
        "parameters": [{"type": "document", "document": {"link": broken}}],
    }
    sent = {}
    for key, header in (("id", by_id), ("link", by_link), ("broken", by_broken_link)):
        response = send_template(
            server,
            channel,
            {"name": "receipt", "language": {"code": "en_US"}, "components": [header]},
        )
        assert response.status_code == 200, response.text
        sent[key] = response.json()["messages"][0]["id"]
    advance(server, 1)

    def settled() -> Any:
        rows = {key: stored(server, wamid) for key, wamid in sent.items()}
        return rows if all(r["state"] not in ("accepted",) for r in rows.values()) else None

    rows = eventually(settled, what="the template messages leave accepted")
    assert rows["id"]["state"] in ("sent", "delivered", "read")
    assert rows["id"]["rendered"]["header"]["type"] == "document"
    assert rows["link"]["state"] in ("sent", "delivered", "read")
    assert rows["link"]["media"][0]["outcome"] == "fetched"
    assert rows["link"]["media"][0]["path"] == (
        "template['components'][0]['parameters'][0]['document']"
    )
    assert rows["broken"]["state"] == "failed"
    assert rows["broken"]["events"][-1]["details"]["code"] == 131053
