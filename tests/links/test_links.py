"""Media by link, end to end: a real wabox server fetches from a real origin on loopback.

The origin is allowed through ``WABOX_LINK_ALLOW=127.0.0.1``; the SSRF tests at the end
run servers without that exception.
"""

from __future__ import annotations

import io
import itertools
import secrets
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import API_KEY, DATABASES, Server, running_server, server_fixture
from tests.delivery.helpers import advance
from tests.helpers import eventually, message, register_template, stored
from tests.links.origin import Origin, running_origin, unanswered_port

LM = "Tue, 22 Feb 2025 22:22:22 GMT"
LM2 = "Wed, 23 Feb 2025 08:00:00 GMT"
TOTAL_TIMEOUT = 2
PREFIX = "Downloading media from weblink failed"


def jpeg(seed: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (seed % 256, 40, 90)).save(out, "JPEG")
    return out.getvalue()


JPEG = {"Content-Type": "image/jpeg"}


# On the virtual clock: cache freshness is the clock's, so expiring a copy is an advance.
server = server_fixture(
    "links",
    setups=DATABASES,
    clock="virtual",
    WABOX_LINK_ALLOW="127.0.0.1",
    WABOX_LINK_TIMEOUT=str(TOTAL_TIMEOUT),
    WABOX_LINK_CONNECT_TIMEOUT="1",
)


@pytest.fixture
def d360(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"D360-API-KEY": API_KEY}) as client:
        yield client


def path(suffix: str = ".jpg") -> str:
    return f"/{secrets.token_hex(6)}{suffix}"


def send(client: httpx.Client, kind: str, link: str, **extra: Any) -> str:
    response = client.post("/messages", json=message(kind, {"link": link, **extra}))
    assert response.status_code == 200, response.text
    return str(response.json()["messages"][0]["id"])


def settled(server: Server, wamid: str) -> dict[str, Any]:
    """The stored message once its media outcome is recorded (the last thing written)."""

    def recorded() -> dict[str, Any]:
        row = stored(server, wamid)
        assert row.get("media"), f"no media outcome for {wamid}: {row}"
        return row

    return eventually(recorded, timeout=15, interval=0.05)


def outcome(server: Server, wamid: str) -> dict[str, Any]:
    row = settled(server, wamid)
    (media,) = row["media"]
    return {**media, "state": row["state"], "events": row["events"]}


def failure(server: Server, wamid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the media outcome, the failed event's details)."""
    found = outcome(server, wamid)
    assert found["state"] == "failed", repr(found)
    assert found["outcome"] == "failed" or found["reason"] == "media_rules"
    details = found["events"][-1]["details"]
    assert details["code"] == 131053
    assert details["title"] == "Media upload error"
    return found, details


# --- fetching and the seed's cache rules ---------------------------------------------------


def test_a_link_is_fetched_after_the_accept(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    link = origin.serve(p := path(), jpeg(1), headers={**JPEG, "Cache-Control": "max-age=600"})
    found = outcome(server, send(d360, "image", link, caption="by link"))
    assert found["state"] != "failed"
    assert found["outcome"] == "fetched"
    assert found["origin_status"] == 200
    assert found["link"] == link
    assert found["path"] == "image"
    assert found["media_id"].isdigit()
    assert found["elapsed_ms"] > 0
    assert "joined" not in found
    assert origin.count(p) == 1
    assert "wabox" in origin.seen(p)[0]["user-agent"]


def test_max_age_reuses_the_copy_then_fetches_again(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    link = origin.serve(p := path(), jpeg(2), headers={**JPEG, "Cache-Control": "max-age=1"})
    first = outcome(server, send(d360, "image", link))
    second = outcome(server, send(d360, "image", link))
    third = outcome(server, send(d360, "image", link))
    assert (first["outcome"], second["outcome"], third["outcome"]) == (
        "fetched",
        "cache_hit",
        "cache_hit",
    )
    assert second["media_id"] == first["media_id"]
    assert "origin_status" not in second
    assert origin.count(p) == 1
    advance(server, 1.2)
    later = outcome(server, send(d360, "image", link))
    assert later["outcome"] == "fetched"
    assert origin.count(p) == 2
    assert "if-modified-since" not in origin.seen(p)[1]


def test_no_cache_revalidates_with_if_modified_since(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    headers = {**JPEG, "Cache-Control": "no-cache", "Last-Modified": LM}
    link = origin.serve(p := path(), jpeg(3), headers=headers)
    first = outcome(server, send(d360, "image", link))
    second = outcome(server, send(d360, "image", link))
    assert first["outcome"] == "fetched"
    assert second["outcome"] == "revalidated"
    assert second["origin_status"] == 304
    assert second["media_id"] == first["media_id"]
    assert second["state"] != "failed"
    assert origin.count(p) == 2
    assert origin.seen(p)[1]["if-modified-since"] == LM


def test_an_unchanged_last_modified_on_a_200_reuses_the_copy(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    headers = {**JPEG, "Cache-Control": "no-cache", "Last-Modified": LM}
    link = origin.serve(p := path(), jpeg(4), headers=headers, honour_conditionals=False)
    first = outcome(server, send(d360, "image", link))
    second = outcome(server, send(d360, "image", link))
    assert second["outcome"] == "revalidated"
    assert second["origin_status"] == 200
    assert second["media_id"] == first["media_id"]
    assert origin.count(p) == 2


def test_a_new_last_modified_replaces_the_copy(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    link = origin.serve(
        p := path(), jpeg(5), headers={**JPEG, "Cache-Control": "no-cache", "Last-Modified": LM}
    )
    first = outcome(server, send(d360, "image", link))
    origin.serve(p, jpeg(6), headers={**JPEG, "Cache-Control": "no-cache", "Last-Modified": LM2})
    second = outcome(server, send(d360, "image", link))
    third = outcome(server, send(d360, "image", link))
    assert second["outcome"] == "fetched"
    assert second["media_id"] != first["media_id"]
    assert third["outcome"] == "revalidated"
    assert third["media_id"] == second["media_id"]
    assert origin.seen(p)[2]["if-modified-since"] == LM2


def test_etag_alone_revalidates_with_if_none_match(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    link = origin.serve(p := path(), jpeg(7), headers={**JPEG, "ETag": '"33a64df5"'})
    first = outcome(server, send(d360, "image", link))
    second = outcome(server, send(d360, "image", link))
    assert (first["outcome"], second["outcome"]) == ("fetched", "revalidated")
    assert second["origin_status"] == 304
    assert origin.seen(p)[1]["if-none-match"] == '"33a64df5"'


def test_etag_beside_cache_control_is_ignored(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    link = origin.serve(
        p := path(), jpeg(8), headers={**JPEG, "ETag": '"x1"', "Cache-Control": "public"}
    )
    outcomes = [outcome(server, send(d360, "image", link))["outcome"] for _ in range(2)]
    assert outcomes == ["fetched", "fetched"]
    assert "if-none-match" not in origin.seen(p)[1]


@pytest.mark.parametrize(
    "headers",
    [
        {"Cache-Control": "no-store"},
        {"Cache-Control": "private, max-age=600"},
        {"Cache-Control": "max-age=600, no-store", "Last-Modified": LM},
        {},
    ],
    ids=["no-store", "private", "no-store-wins", "no-headers"],
)
def test_uncacheable_responses_are_fetched_every_time(
    server: Server, origin: Origin, d360: httpx.Client, headers: dict[str, str]
) -> None:
    link = origin.serve(p := path(), jpeg(9), headers={**JPEG, **headers})
    found = [outcome(server, send(d360, "image", link)) for _ in range(3)]
    assert [f["outcome"] for f in found] == ["fetched"] * 3
    assert origin.count(p) == 3
    assert all("if-modified-since" not in seen for seen in origin.seen(p))


def test_the_sweeper_drops_cache_entries_that_cannot_be_used(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    kept = origin.serve(p := path(), jpeg(15), headers={**JPEG, "Cache-Control": "max-age=600"})
    media_id = outcome(server, send(d360, "image", kept))["media_id"]
    short = origin.serve(path(), jpeg(16), headers={**JPEG, "Cache-Control": "max-age=1"})
    outcome(server, send(d360, "image", short))
    advance(server, 1.1)
    with server.admin() as admin:
        assert admin.post(f"/sandbox/media/{media_id}/expire").status_code == 200
        swept = admin.post("/sandbox/media/sweep").json()
    assert swept["link_cache"] >= 2
    again = outcome(server, send(d360, "image", kept))
    assert again["outcome"] == "fetched"
    assert again["state"] != "failed"
    assert again["media_id"] != media_id
    assert origin.count(p) == 2


def test_the_cache_is_per_channel(server: Server, origin: Origin, d360: httpx.Client) -> None:
    link = origin.serve(p := path(), jpeg(10), headers={**JPEG, "Cache-Control": "max-age=600"})
    outcome(server, send(d360, "image", link))
    with server.admin() as admin:
        other = admin.post("/sandbox/channels", json={}).json()
    with httpx.Client(
        base_url=server.base_url, headers={"D360-API-KEY": other["api_key"]}
    ) as client:
        assert outcome(server, send(client, "image", link))["outcome"] == "fetched"
    assert origin.count(p) == 2


def test_fixed_10m_policy_ignores_headers_and_keys_on_the_exact_link(
    server: Server, origin: Origin
) -> None:
    with server.admin() as admin:
        channel = admin.post("/sandbox/channels", json={}).json()
        assert channel["settings"]["link_cache"] == "seed"
        changed = admin.patch(
            f"/sandbox/channels/{channel['phone_number_id']}",
            json={"settings": {"link_cache": "fixed-10m"}},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["settings"]["link_cache"] == "fixed-10m"
    link = origin.serve(p := path(), jpeg(11), headers={**JPEG, "Cache-Control": "no-store"})
    with httpx.Client(
        base_url=server.base_url, headers={"D360-API-KEY": channel["api_key"]}
    ) as client:
        first = outcome(server, send(client, "image", link))
        second = outcome(server, send(client, "image", link))
        other_query = outcome(server, send(client, "image", link + "?abc123"))
        again = outcome(server, send(client, "image", link + "?abc123"))
    assert [f["outcome"] for f in (first, second, other_query, again)] == [
        "fetched",
        "cache_hit",
        "fetched",
        "cache_hit",
    ]
    assert origin.count(p) == 1
    assert origin.count(p + "?abc123") == 1


def test_channel_settings_are_validated(server: Server) -> None:
    with server.admin() as admin:
        channel = admin.post("/sandbox/channels", json={}).json()
        url = f"/sandbox/channels/{channel['phone_number_id']}"
        bad_value = admin.patch(url, json={"settings": {"link_cache": "forever"}})
        unknown = admin.patch(url, json={"settings": {"cache": "seed"}})
        missing = admin.patch("/sandbox/channels/123456789", json={"name": "x"})
    assert bad_value.status_code == 400
    assert bad_value.json()["error"]["code"] == 100
    assert "link_cache" in bad_value.json()["error"]["message"]
    assert unknown.status_code == 400
    assert 'Unexpected key "cache"' in unknown.json()["error"]["message"]
    assert missing.status_code == 400
    assert missing.json()["error"]["error_subcode"] == 33


def test_fifty_concurrent_sends_make_one_origin_request(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    link = origin.serve(
        p := path(), jpeg(12), headers={**JPEG, "Cache-Control": "max-age=600"}, delay=1.0
    )
    with ThreadPoolExecutor(16) as pool:
        wamids = list(pool.map(lambda _: send(d360, "image", link), range(50)))
    found = [outcome(server, wamid) for wamid in wamids]
    assert origin.count(p) == 1
    assert "failed" not in {f["state"] for f in found}
    assert len({f["media_id"] for f in found}) == 1
    leaders = [f for f in found if f["outcome"] == "fetched" and not f.get("joined")]
    assert len(leaders) == 1
    assert all(f.get("joined") or f["outcome"] == "cache_hit" for f in found if f not in leaders)
    assert sum(1 for f in found if f.get("joined")) >= 10  # they really overlapped


def test_redirects_are_followed(server: Server, origin: Origin, d360: httpx.Client) -> None:
    target = origin.serve(p := path(), jpeg(13), headers=JPEG)
    link = origin.serve(hop := path(), status=302, headers={"Location": target})
    found = outcome(server, send(d360, "image", link))
    assert found["outcome"] == "fetched"
    assert (origin.count(hop), origin.count(p)) == (1, 1)


def test_template_header_and_document_links_go_through_the_pipeline(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    pdf = origin.serve(
        path(".pdf"), b"%PDF-1.4\n%%EOF\n", headers={"Content-Type": "application/pdf"}
    )
    found = outcome(server, send(d360, "document", pdf, filename="r.pdf"))
    assert found["outcome"] == "fetched"
    assert found["state"] != "failed"
    html = origin.serve(path(".png"), b"<html>", headers={"Content-Type": "text/html"})
    header = {"type": "header", "parameters": [{"type": "image", "image": {"link": html}}]}
    with server.admin() as admin:
        register_template(admin, "image_header", language="en", header="IMAGE", body="Hi")
    template = {"name": "image_header", "language": {"code": "en"}, "components": [header]}
    response = d360.post("/messages", json=message("template", template))
    found, details = failure(server, response.json()["messages"][0]["id"])
    assert found["path"] == "template['components'][0]['parameters'][0]['image']"
    assert details["details"] == (
        f"{PREFIX}: Content-Type text/html is not supported for image messages; "
        "image takes image/jpeg, image/png."
    )


# --- failures, each with its exact details -------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        (403, None, "with http code 403, status message Forbidden"),
        (404, None, "with http code 404, status message Not Found"),
        (429, None, "with http code 429, status message Too Many Requests"),
        (500, None, "with http code 500, status message Internal Server Error"),
        (503, "Busy Right Now", "with http code 503, status message Busy Right Now"),
    ],
)
def test_http_errors_fail_in_metas_words(
    server: Server,
    origin: Origin,
    d360: httpx.Client,
    status: int,
    reason: str | None,
    expected: str,
) -> None:
    link = origin.serve(path(), b"nope", status=status, reason=reason, headers=JPEG)
    found, details = failure(server, send(d360, "image", link))
    assert details["details"] == f"{PREFIX} {expected}"
    assert (found["origin_status"], found["reason"]) == (status, "http_status")


def _fails_with(server: Server, d360: httpx.Client, link: str, kind: str = "image") -> Any:
    return failure(server, send(d360, kind, link))


def test_unresolvable_host(server: Server, d360: httpx.Client) -> None:
    found, details = _fails_with(server, d360, "http://no-such-host.invalid/cat.jpg")
    assert details["details"] == f"{PREFIX}: the host no-such-host.invalid could not be resolved."
    assert found["reason"] == "dns"


def test_refused_connection(server: Server, d360: httpx.Client) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    found, details = _fails_with(server, d360, f"http://127.0.0.1:{port}/cat.jpg")
    assert details["details"] == f"{PREFIX}: the connection to 127.0.0.1:{port} was refused."
    assert found["reason"] == "refused"


def test_connect_timeout(server: Server, d360: httpx.Client) -> None:
    with unanswered_port() as port:
        found, details = _fails_with(server, d360, f"http://127.0.0.1:{port}/cat.jpg")
    assert details["details"] == f"{PREFIX}: connecting to the host took longer than 1 s."
    assert found["reason"] == "connect_timeout"


def test_total_timeout(server: Server, origin: Origin, d360: httpx.Client) -> None:
    link = origin.serve(path(), jpeg(), headers=JPEG, delay=TOTAL_TIMEOUT + 1)
    found, details = _fails_with(server, d360, link)
    assert details["details"] == (
        f"{PREFIX}: the download did not finish within {TOTAL_TIMEOUT} s."
    )
    assert found["reason"] == "timeout"


def test_declared_length_over_the_limit(server: Server, origin: Origin, d360: httpx.Client) -> None:
    body = b"RIFF" + bytes(600 * 1024)
    link = origin.serve(p := path(".webp"), body, headers={"Content-Type": "image/webp"})
    found, details = _fails_with(server, d360, link, "sticker")
    assert details["details"] == (
        f"{PREFIX}: the file is larger than 500.0 KB (512000 bytes), the limit for sticker "
        f"messages; its Content-Length is {len(body)} bytes."
    )
    assert found["reason"] == "too_large"
    assert origin.count(p) == 1


def test_streamed_body_over_the_limit(server: Server, origin: Origin, d360: httpx.Client) -> None:
    link = origin.serve(
        path(".webp"), bytes(700 * 1024), headers={"Content-Type": "image/webp"}, chunked=True
    )
    _, details = _fails_with(server, d360, link, "sticker")
    assert details["details"] == (
        f"{PREFIX}: the file is larger than 500.0 KB (512000 bytes), the limit for sticker "
        "messages; the body grew past it."
    )


def test_missing_content_type(server: Server, origin: Origin, d360: httpx.Client) -> None:
    found, details = _fails_with(server, d360, origin.serve(path(), jpeg()))
    assert details["details"] == (
        f"{PREFIX}: the response has no Content-Type; the link must serve the file's MIME type "
        "(image/jpeg, image/png for image)."
    )
    assert found["reason"] == "content_type"


def test_content_type_with_parameters_is_understood(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    link = origin.serve(path(), jpeg(), headers={"Content-Type": "IMAGE/JPEG; charset=binary"})
    assert outcome(server, send(d360, "image", link))["state"] != "failed"


def test_too_many_redirects(server: Server, origin: Origin, d360: httpx.Client) -> None:
    hops = [path() for _ in range(7)]
    origin.serve(hops[-1], jpeg(), headers=JPEG)
    for here, there in itertools.pairwise(hops):
        origin.serve(here, status=301, headers={"Location": there})  # relative: joined
    found, details = _fails_with(server, d360, origin.url(hops[0]))
    assert details["details"] == f"{PREFIX}: more than 5 redirects."
    assert origin.count(hops[6]) == 0
    assert found["reason"] == "redirects"


def test_fetched_bytes_pass_the_same_type_rules(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    link = origin.serve(path(), png.getvalue(), headers=JPEG)
    found, details = _fails_with(server, d360, link)
    assert found["outcome"] == "fetched"
    assert found["reason"] == "media_rules"
    assert details["details"] == "The file's content does not match its declared type image/jpeg."


def test_metrics_count_hits_misses_revalidations_and_failures(
    server: Server, origin: Origin, d360: httpx.Client
) -> None:
    link = origin.serve(path(), jpeg(14), headers={**JPEG, "Cache-Control": "max-age=600"})
    outcome(server, send(d360, "image", link))
    outcome(server, send(d360, "image", link))
    text = httpx.get(f"{server.base_url}/metrics").text
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("wabox_link")
    }
    assert values['wabox_link_cache_total{result="hit"}'] >= 1
    assert values['wabox_link_cache_total{result="miss"}'] >= 1
    assert values['wabox_link_cache_total{result="revalidated"}'] >= 1
    assert values['wabox_link_failures_total{reason="http_status"}'] >= 1


# --- the SSRF guard, on servers without the allow-list -------------------------------------


# Default settings, except that 127.0.0.2 is allowed (to stand for a public host).
guarded = server_fixture("guarded", WABOX_LINK_ALLOW="127.0.0.2")


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("[::1]", "::1 is a loopback address"),
        ("10.0.0.1", "10.0.0.1 is a private address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("localhost", "localhost resolves to "),
    ],
)
def test_private_destinations_are_refused(
    guarded: Server, origin: Origin, host: str, shown: str
) -> None:
    p = path()
    origin.serve(p, jpeg(), headers=JPEG)
    with httpx.Client(base_url=guarded.base_url, headers={"D360-API-KEY": API_KEY}) as client:
        found, details = failure(guarded, send(client, "image", f"http://{host}:{origin.port}{p}"))
    if host == "localhost":  # 127.0.0.1 or ::1, whichever the resolver names first
        address = details["details"].split("resolves to ")[1].split(",")[0]
        assert address in ("127.0.0.1", "::1")
        shown += f"{address}, a loopback address"
    assert details["details"] == (
        f"{PREFIX}: {shown}; wabox does not fetch links on private networks "
        "(WABOX_LINK_ALLOW lists the hosts or CIDRs it may fetch)."
    )
    assert found["reason"] == "blocked"
    assert origin.count(p) == 0


def test_a_redirect_to_a_private_address_is_refused(guarded: Server, origin: Origin) -> None:
    """The first hop (127.0.0.2, allowed) redirects to 127.0.0.1, which is checked and refused."""
    secret = path()
    origin.serve(secret, jpeg(), headers=JPEG)
    with running_origin("127.0.0.2") as public:
        hop = path()
        link = public.serve(hop, status=302, headers={"Location": origin.url(secret)})
        with httpx.Client(base_url=guarded.base_url, headers={"D360-API-KEY": API_KEY}) as client:
            found, details = failure(guarded, send(client, "image", link))
        assert public.count(hop) == 1
    assert "127.0.0.1 is a loopback address" in details["details"]
    assert found["reason"] == "blocked"
    assert origin.count(secret) == 0


def test_without_the_allow_list_loopback_is_refused(tmp_path: Path, origin: Origin) -> None:
    with running_server(tmp_path) as instance:
        p = path()
        origin.serve(p, jpeg(), headers=JPEG)
        with httpx.Client(base_url=instance.base_url, headers={"D360-API-KEY": API_KEY}) as client:
            _, details = failure(instance, send(client, "image", origin.url(p)))
        assert "127.0.0.1 is a loopback address" in details["details"]
        assert origin.count(p) == 0
