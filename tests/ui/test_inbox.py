"""The web inbox in a real browser: what the API sent appears live, with its ticks; the
tester replies as the customer; a failure's details are one click away; every page works
at 375 px and from the keyboard."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.conftest import ADMIN_TOKEN, API_KEY, Server
from tests.delivery.receiver import Receiver
from tests.helpers import message
from tests.links.origin import Origin
from tests.ui.conftest import screenshot
from wabox.samples import sample_path

CUSTOMER = "16505559100"


def api(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"D360-API-KEY": API_KEY}, timeout=10)


def upload(server: Server, sample: str, mime: str) -> str:
    with api(server) as c:
        response = c.post(
            "/media",
            data={"messaging_product": "whatsapp"},
            files={"file": (sample, sample_path(sample).read_bytes(), mime)},
        )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def send(server: Server, kind: str, body: dict[str, Any], to: str = CUSTOMER) -> str:
    with api(server) as c:
        response = c.post("/messages", json=message(kind, body, to=to))
    assert response.status_code == 200, response.text
    return str(response.json()["messages"][0]["id"])


def customer_writes(server: Server, text: str, to: str = CUSTOMER) -> str:
    with server.admin() as admin:
        response = admin.post(
            "/sandbox/inbound", json={"from": to, "name": "Ada Lovelace", "text": {"body": text}}
        )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def default_channel(server: Server) -> str:
    with server.admin() as admin:
        channels = admin.get("/sandbox/channels").json()["channels"]
    return str(next(c for c in channels if c["api_key"] == API_KEY)["phone_number_id"])


def webhook_to(server: Server, receiver: Receiver) -> str:
    """The default channel's webhook goes to ``receiver``; the channel's id."""
    channel = default_channel(server)
    with server.admin() as admin:
        patched = admin.patch(
            f"/sandbox/channels/{channel}", json={"settings": {"webhook": {"url": receiver.url}}}
        )
    assert patched.status_code == 200, patched.text
    return channel


def open_chat(page: Page, server: Server, customer: str = CUSTOMER) -> None:
    page.goto(f"{server.base_url}/?channel={default_channel(server)}&customer={customer}")
    expect(page.locator("#live.on")).to_be_visible()  # the live stream is connected


def bubble(page: Page, wamid: str) -> Any:
    return page.locator(f'[data-wamid="{wamid}"]')


def test_the_inbox_is_closed_without_the_token_link(browser: Browser, server: Server) -> None:
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(f"{server.base_url}/")
    assert response is not None and response.status == 401
    expect(page.get_by_role("heading", name="The inbox is closed")).to_be_visible()
    page.goto(f"{server.base_url}/?token=not-the-token")
    expect(page.get_by_role("alert")).to_contain_text("not this server's admin token")
    page.goto(f"{server.base_url}/?token={ADMIN_TOKEN}")
    assert page.url == f"{server.base_url}/"  # redirected to the clean URL
    (cookie,) = context.cookies()
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert ADMIN_TOKEN not in cookie["value"]
    expect(page.get_by_label("Channel", exact=True)).to_be_visible()
    with httpx.Client(base_url=server.base_url) as anonymous:
        assert anonymous.get("/ui/events").status_code == 401
    context.close()


def test_media_arrive_live_with_their_ticks(page: Page, server: Server, origin: Origin) -> None:
    customer_writes(server, "Send me everything, please")
    open_chat(page, server)
    page.evaluate("window.notReloaded = true")
    image = send(
        server, "image", {"id": upload(server, "image.jpg", "image/jpeg"), "caption": "A sunny day"}
    )
    document = send(
        server,
        "document",
        {"id": upload(server, "document.pdf", "application/pdf"), "filename": "invoice.pdf"},
    )
    sticker = send(server, "sticker", {"id": upload(server, "sticker.webp", "image/webp")})
    voice = send(server, "audio", {"id": upload(server, "voice.ogg", "audio/ogg"), "voice": True})
    broken = send(server, "image", {"link": origin.serve("/gone.jpg", b"", status=404)})
    for wamid in (image, document, sticker, voice):
        expect(bubble(page, wamid)).to_have_attribute("data-state", "read", timeout=15_000)
        expect(bubble(page, wamid).locator(".tick.read")).to_have_text("✓✓")
    expect(bubble(page, broken)).to_have_attribute("data-state", "failed", timeout=15_000)
    expect(bubble(page, broken).locator(".tick.failed")).to_contain_text("131053")
    assert page.evaluate("window.notReloaded") is True  # all of it arrived without a reload

    picture = bubble(page, image).locator("img")
    expect(picture).to_have_attribute("alt", "A sunny day")
    assert picture.evaluate("img => img.complete && img.naturalWidth") == 640
    expect(bubble(page, document).locator(".doc-name")).to_have_text("invoice.pdf")
    expect(bubble(page, document).get_by_role("link", name="Download")).to_be_visible()
    assert bubble(page, sticker).locator("img.sticker").evaluate("i => i.naturalWidth") == 512
    expect(bubble(page, voice).locator(".voice")).to_have_text("🎤 Voice message")
    expect(bubble(page, voice).locator("audio")).to_have_count(1)
    title = bubble(page, broken).locator(".tick.failed").get_attribute("title") or ""
    assert "Downloading media from weblink failed with http code 404" in title
    screenshot(page, "inbox")


def test_reply_as_the_customer_reaches_the_webhook(
    page: Page, server: Server, receiver: Receiver
) -> None:
    webhook_to(server, receiver)
    customer = "16505559101"
    customer_writes(server, "hello", to=customer)
    asked = send(server, "text", {"body": "Which size do you need?"}, to=customer)
    open_chat(page, server, customer)
    expect(bubble(page, asked)).to_be_visible()
    bubble(page, asked).get_by_role("button", name="Reply").click()
    composer = page.get_by_label("Message as the customer")
    expect(composer).to_be_focused()
    composer.fill("Large, please")
    composer.press("Enter")
    expect(page.locator(".bubble.customer", has_text="Large, please")).to_be_visible()
    expect(composer).to_have_value("")
    sent = inbound_webhook(receiver, "Large, please")
    (said,) = sent["entry"][0]["changes"][0]["value"]["messages"]
    assert said["from"] == customer and said["context"]["id"] == asked
    reply = page.locator(".bubble.customer", has_text="Large, please")
    expect(reply.locator(".quote")).to_contain_text("Which size do you need?")
    bubble(page, asked).get_by_role("button", name="React 👍").click()
    expect(bubble(page, asked).locator(".reactions")).to_have_text("👍")
    reacted = inbound_webhook(receiver, "👍", field="reaction")
    assert reacted["entry"][0]["changes"][0]["value"]["messages"][0]["reaction"] == {
        "message_id": asked,
        "emoji": "👍",
    }
    page.locator(".composer input[type=file]").set_input_files(str(sample_path("document.pdf")))
    expect(page.locator(".composer .file-name")).to_have_text("document.pdf")
    composer.fill("my receipt")
    page.get_by_role("button", name="Send", exact=True).click()
    sent_file = page.locator(".bubble.customer.document", has_text="document.pdf")
    expect(sent_file).to_contain_text("my receipt")
    filed = inbound_webhook(receiver, "my receipt", field="document")
    document = filed["entry"][0]["changes"][0]["value"]["messages"][0]["document"]
    assert (document["filename"], document["mime_type"]) == ("document.pdf", "application/pdf")
    with httpx.Client(base_url=server.base_url) as c:
        c.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        windows = c.get("/sandbox/conversations").json()["conversations"]
    assert any(w["wa_id"] == customer and w["window"] == "open" for w in windows)


def inbound_webhook(receiver: Receiver, needle: str, field: str = "text") -> Any:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for received in list(receiver.received):
            value = received.json["entry"][0]["changes"][0]["value"]
            for said in value.get("messages", []):
                if needle in str(said.get(field, "")):
                    return received.json
        time.sleep(0.05)
    raise AssertionError(f"no inbound webhook with {needle!r}")


def test_the_customer_taps_buttons_and_picks_rows_in_the_inbox(
    page: Page, server: Server, receiver: Receiver
) -> None:
    """The answers a business message offers are clickable as the customer, and reach the
    webhook as Meta sends them (``interactive`` button_reply / list_reply, ``button``)."""
    webhook_to(server, receiver)
    with server.admin() as admin:
        created = admin.post(
            "/sandbox/templates",
            json={
                "name": "pickup_ready",
                "language": "en_US",
                "category": "UTILITY",
                "components": [
                    {"type": "BODY", "text": "Your order is ready"},
                    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "On my way"}]},
                ],
            },
        )
    assert created.status_code == 201, created.text
    customer = "16505559107"
    customer_writes(server, "where is it?", to=customer)
    buttons = send(
        server,
        "interactive",
        {
            "type": "button",
            "body": {"text": "Deliver or pick up?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "deliver", "title": "Deliver"}},
                    {"type": "reply", "reply": {"id": "pickup", "title": "Pick up"}},
                ]
            },
        },
        to=customer,
    )
    listed = send(
        server,
        "interactive",
        {
            "type": "list",
            "body": {"text": "When?"},
            "action": {
                "button": "Times",
                "sections": [{"title": "Today", "rows": [{"id": "t17", "title": "17:00"}]}],
            },
        },
        to=customer,
    )
    template = send(
        server,
        "template",
        {
            "name": "pickup_ready",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": "ON-MY-WAY"}],
                }
            ],
        },
        to=customer,
    )
    open_chat(page, server, customer)
    bubble(page, buttons).get_by_role("button", name="Pick up").click()
    tapped = inbound_webhook(receiver, "pickup", field="interactive")
    (said,) = tapped["entry"][0]["changes"][0]["value"]["messages"]
    assert said["interactive"]["button_reply"] == {"id": "pickup", "title": "Pick up"}
    assert said["context"]["id"] == buttons
    bubble(page, listed).get_by_role("button", name="Times").click()
    picked = inbound_webhook(receiver, "t17", field="interactive")
    assert picked["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "t17", "title": "17:00"},
    }
    bubble(page, template).get_by_role("button", name="On my way").click()
    quick = inbound_webhook(receiver, "ON-MY-WAY", field="button")
    assert quick["entry"][0]["changes"][0]["value"]["messages"][0]["button"] == {
        "payload": "ON-MY-WAY",
        "text": "On my way",
    }
    expect(page.locator(".bubble.customer")).to_have_count(4)  # its first words and 3 answers


def test_the_customer_shares_and_answers_a_flow_in_the_inbox(
    page: Page, server: Server, receiver: Receiver
) -> None:
    """The phone's share menu sends a location, a contact card, a sticker and a voice note,
    and a Flow message offers its button; each reaches the webhook in Meta's inbound shape
    (Meta for Developers, WhatsApp Cloud API, Webhooks reference, "messages": location,
    contacts, sticker, audio with voice, interactive nfm_reply)."""
    webhook_to(server, receiver)
    customer = "16505559109"
    customer_writes(server, "can I book?", to=customer)
    flow = send(
        server,
        "interactive",
        {
            "type": "flow",
            "body": {"text": "Pick a slot"},
            "action": {
                "name": "flow",
                "parameters": {
                    "flow_message_version": "3",
                    "flow_token": "BOOK-1",
                    "flow_id": "1234567890",
                    "flow_cta": "Book now",
                },
            },
        },
        to=customer,
    )
    open_chat(page, server, customer)
    answers = bubble(page, flow).get_by_label("What the Flow returns (a JSON object)")
    answers.fill('{"slot": "18:45"}')
    bubble(page, flow).get_by_role("button", name="Book now").click()
    booked = inbound_webhook(receiver, "18:45", field="interactive")
    (said,) = booked["entry"][0]["changes"][0]["value"]["messages"]
    assert said["context"]["id"] == flow
    reply = said["interactive"]["nfm_reply"]
    assert json.loads(reply["response_json"]) == {"slot": "18:45", "flow_token": "BOOK-1"}
    page.get_by_text("Share…").click()
    place = page.get_by_role("form", name="Share a location")
    place.get_by_label("Place").fill("Brandenburger Tor")
    place.get_by_role("button", name="Share location").click()
    shared = inbound_webhook(receiver, "Brandenburger", field="location")
    assert shared["entry"][0]["changes"][0]["value"]["messages"][0]["location"] == {
        "latitude": 52.52,
        "longitude": 13.405,
        "name": "Brandenburger Tor",
    }
    expect(page.locator(".bubble.customer.location")).to_contain_text("Brandenburger Tor")
    expect(page.locator("details.share")).to_have_attribute("open", "")  # stays open
    card = page.get_by_role("form", name="Share a contact")
    card.get_by_label("Name").fill("Grace Hopper")
    card.get_by_label("Phone").fill("+1 650 555 0199")
    card.get_by_role("button", name="Share contact").click()
    carded = inbound_webhook(receiver, "Grace Hopper", field="contacts")
    (contact,) = carded["entry"][0]["changes"][0]["value"]["messages"][0]["contacts"]
    assert contact["name"]["formatted_name"] == "Grace Hopper"
    assert contact["phones"] == [
        {"phone": "+1 650 555 0199", "type": "CELL", "wa_id": "16505550199"}
    ]
    page.get_by_role("button", name="Voice note").click()
    expect(page.locator(".bubble.customer.audio .voice")).to_be_visible()
    page.get_by_role("button", name="Sticker", exact=True).click()
    expect(page.locator(".bubble.customer.sticker img")).to_be_visible()
    voice = inbound_webhook(receiver, "'voice': True", field="audio")
    assert voice["entry"][0]["changes"][0]["value"]["messages"][0]["audio"]["mime_type"] == (
        "audio/ogg; codecs=opus"
    )
    screenshot(page, "inbox-share")
    sticker = inbound_webhook(receiver, "image/webp", field="sticker")
    assert sticker["entry"][0]["changes"][0]["value"]["messages"][0]["sticker"]["animated"] is False


def test_a_customer_known_by_username_alone(page: Page, server: Server) -> None:
    """A customer who shares no phone number is listed and answered by its username and
    BSUID; the tester still writes as it from the composer."""
    with server.admin() as admin:
        wrote = admin.post(
            "/sandbox/inbound", json={"username": "grace.codes", "text": {"body": "hi there"}}
        )
        assert wrote.status_code == 200, wrote.text
        (customer,) = [
            c["wa_id"]
            for c in admin.get("/sandbox/conversations").json()["conversations"]
            if c["username"] == "grace.codes"
        ]
    assert customer.startswith("US.")
    with api(server) as c:
        answered = c.post(
            "/messages",
            json={
                "messaging_product": "whatsapp",
                "recipient": customer,
                "type": "text",
                "text": {"body": "Hello Grace"},
            },
        )
    assert answered.status_code == 200, answered.text
    page.goto(f"{server.base_url}/?channel={default_channel(server)}")
    listed = page.locator(f'.customer[data-customer="{customer}"]')
    expect(listed.locator(".handle")).to_have_text("@grace.codes")
    listed.click()
    expect(page.locator(".chat-head .handle")).to_have_text("@grace.codes · no phone number shared")
    expect(page.locator(".bubble.business", has_text="Hello Grace")).to_be_visible()
    composer = page.get_by_label("Message as the customer")
    composer.fill("thanks!")
    composer.press("Enter")
    expect(page.locator(".bubble.customer", has_text="thanks!")).to_be_visible()


def test_the_business_typing_shows_until_it_answers(page: Page, server: Server) -> None:
    customer = "16505559108"
    wrote = customer_writes(server, "are you there?", to=customer)
    open_chat(page, server, customer)
    expect(page.locator(".bubble.customer", has_text="are you there?")).to_be_visible()
    with api(server) as c:
        marked = c.post(
            "/messages",
            json={
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": wrote,
                "typing_indicator": {"type": "text"},
            },
        )
    assert marked.json() == {"success": True}
    typing = page.get_by_role("status").filter(has_text="typing…")
    expect(typing).to_be_visible()
    send(server, "text", {"body": "Yes, one moment"}, to=customer)
    expect(page.locator(".bubble.business", has_text="Yes, one moment")).to_be_visible()
    expect(typing).to_have_count(0)  # the answer ends it


def test_a_failed_message_shows_why(page: Page, server: Server, origin: Origin) -> None:
    customer = "16505559102"
    customer_writes(server, "the brochure?", to=customer)
    broken = send(
        server,
        "document",
        {"link": origin.serve("/brochure.pdf", b"", status=403), "filename": "brochure.pdf"},
        to=customer,
    )
    open_chat(page, server, customer)
    failed = bubble(page, broken).locator(".tick.failed")
    expect(failed).to_contain_text("131053", timeout=15_000)
    failed.click()
    expect(page.get_by_role("heading", name="To +16505559102 · document")).to_be_visible()
    note = page.locator(".error-box")
    expect(note).to_contain_text("131053 Media upload error")
    expect(note).to_contain_text(
        "Downloading media from weblink failed with http code 403, status message Forbidden"
    )
    expect(page.locator("table")).to_contain_text("failed")
    expect(page.locator(".payload")).to_contain_text("brochure.pdf")
    screenshot(page, "message-detail")


def test_every_page_fits_375px_and_works_from_the_keyboard(
    browser: Browser, server: Server
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto(f"{server.base_url}/?token={ADMIN_TOKEN}")
    customer = "16505559103"
    customer_writes(server, "small screen", to=customer)
    wamid = send(server, "text", {"body": "Hi on a phone"}, to=customer)
    channel = default_channel(server)
    pages = {
        "signin-375": "/?token=wrong",
        "inbox-375": f"/?channel={channel}&customer={customer}",
        "list-375": f"/?channel={channel}&q=phone",
        "detail-375": f"/ui/messages/{wamid}",
        "webhooks-375": f"/ui/{channel}/webhooks",
        "settings-375": f"/ui/{channel}/settings",
    }
    for name, path in pages.items():
        page.goto(server.base_url + path)  # a wrong token shows the sign-in page, cookie kept
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 375, (name, width)
        screenshot(page, name)
    page.goto(server.base_url + pages["inbox-375"])
    for _ in range(80):  # Tab through the page until the composer has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "composer-text":
            break
    else:
        raise AssertionError("the composer cannot be reached with Tab")
    page.keyboard.type("typed without a mouse")
    page.keyboard.press("Enter")
    expect(page.locator(".bubble.customer", has_text="typed without a mouse")).to_be_visible()
    page.goto(server.base_url + pages["settings-375"])
    page.get_by_label("Seconds from sent to delivered").fill("0.5")
    page.get_by_role("button", name="Save").press("Enter")
    expect(page.get_by_role("status")).to_have_text("Saved.")
    with server.admin() as admin:
        found = admin.get("/sandbox/channels").json()["channels"]
    assert (
        next(c for c in found if c["phone_number_id"] == channel)["settings"]["delivered_after"]
        == 0.5
    )
    context.close()


def test_every_kind_of_message_is_drawn(page: Page, server: Server, receiver: Receiver) -> None:
    customer = "16505559104"
    with server.admin() as admin:
        for body in (
            {
                "type": "location",
                "location": {
                    "latitude": 52.52,
                    "longitude": 13.405,
                    "name": "Brandenburger Tor",
                    "address": "Pariser Platz",
                },
            },
            {
                "type": "contacts",
                "contacts": [
                    {
                        "name": {"formatted_name": "Grace Hopper"},
                        "phones": [{"phone": "+1 202 555 0100", "type": "WORK"}],
                    }
                ],
            },
            {"type": "video", "video": {"caption": "the clip"}},
            {"type": "sticker", "sticker": {"sample": "sticker_animated.webp"}},
        ):
            response = admin.post("/sandbox/inbound", json={"from": customer, **body})
            assert response.status_code == 200, response.text
        template = admin.post(
            "/sandbox/templates",
            json={
                "name": "order_shipped",
                "language": "en_US",
                "category": "UTILITY",
                "components": [
                    {"type": "HEADER", "format": "IMAGE"},
                    {"type": "BODY", "text": "Hi {{1}}, order {{2}} is on its way."},
                    {"type": "FOOTER", "text": "Shop & Co"},
                    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Thanks!"}]},
                ],
            },
        )
        assert template.status_code == 201, template.text
    photo = upload(server, "image.jpg", "image/jpeg")
    shipped = send(server, "template", {
        "name": "order_shipped", "language": {"code": "en_US"},
        "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"id": photo}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Grace"},
                                            {"type": "text", "text": "#1906"}]},
        ],
    }, to=customer)  # fmt: skip
    open_chat(page, server, customer)
    expect(page.locator(".bubble.location")).to_contain_text("Brandenburger Tor")
    expect(page.locator(".bubble.location")).to_contain_text("Pariser Platz")
    expect(page.locator(".contact-card")).to_contain_text("Grace Hopper")
    expect(page.locator(".contact-card")).to_contain_text("+1 202 555 0100")
    expect(page.locator(".bubble.video video")).to_have_count(1)
    expect(page.locator(".bubble.video")).to_contain_text("the clip")
    expect(page.locator(".bubble.sticker img.sticker")).to_have_count(1)
    drawn = bubble(page, shipped)
    expect(drawn).to_contain_text("Hi Grace, order #1906 is on its way.")
    expect(drawn).to_contain_text("Shop & Co")
    expect(drawn.locator(".tpl-button")).to_have_text("Thanks!")
    listed = page.locator(f'.customer[data-customer="{customer}"] .last')
    expect(listed).to_have_text("You: Hi Grace, order #1906 is on its way.")
    expect(drawn.locator("img")).to_have_attribute("alt", "Template header")
    assert drawn.locator("img").evaluate("i => i.complete && i.naturalWidth") == 640
    screenshot(page, "kinds")

    page.get_by_label("Search messages").fill("Grace")
    page.get_by_label("Search messages").press("Enter")
    expect(page.get_by_role("region", name="Search results")).to_contain_text("found for “Grace”")
    expect(page.get_by_role("region", name="Search results")).to_contain_text(customer)


def test_the_webhook_log_filters_and_redelivers(
    page: Page, server: Server, receiver: Receiver
) -> None:
    channel = webhook_to(server, receiver)
    wamid = send(server, "text", {"body": "logged"}, to="16505559105")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "read" not in receiver.statuses(wamid):
        time.sleep(0.05)
    page.goto(f"{server.base_url}/ui/{channel}/webhooks?state=delivered")
    expect(page.get_by_role("link", name="delivered")).to_have_attribute("aria-current", "page")
    rows = page.locator("table.log tbody tr")
    expect(rows.first).to_contain_text("delivered")
    assert all("delivered" in row for row in rows.all_inner_texts())
    page.goto(f"{server.base_url}/ui/{channel}/webhooks?state=dead")
    expect(page.locator("table.log")).to_contain_text("No deliveries.")
    page.goto(f"{server.base_url}/ui/messages/{wamid}")
    before = len(receiver.for_message(wamid))
    page.locator(".delivery").first.get_by_role("button", name="Redeliver").click()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(receiver.for_message(wamid)) == before:
        time.sleep(0.05)
    assert len(receiver.for_message(wamid)) == before + 1


def test_a_receiver_probe_from_the_webhook_log(
    page: Page, server: Server, receiver: Receiver
) -> None:
    """The test receiver answers 200 to anything: the inbox flags it for a bad signature."""
    with server.admin() as admin:
        created = admin.post(
            "/sandbox/channels",
            json={"settings": {"webhook": {"url": receiver.url, "app_secret": "s"}}},
        ).json()
    channel = created["phone_number_id"]
    page.goto(f"{server.base_url}/ui/{channel}/webhooks")
    page.get_by_label("Probe the receiver with").select_option("bad_signature")
    page.get_by_role("button", name="Send probe").click()
    result = page.get_by_role("status", name="Probe result")
    expect(result).to_contain_text(
        "FLAGGED: the receiver accepted a webhook signed with a wrong key"
    )
    expect(result).to_contain_text("HTTP 200")
    expect(page.locator("table.log")).to_contain_text("probe:bad_signature")
    page.get_by_label("Probe the receiver with").select_option("old_secret")
    page.get_by_role("button", name="Send probe").click()
    expect(page.get_by_role("alert")).to_contain_text("never changed")


def test_scenario_rules_from_the_settings_page(page: Page, server: Server) -> None:
    channel = default_channel(server)
    customer = "16505559106"
    customer_writes(server, "are you there?", to=customer)
    page.goto(f"{server.base_url}/ui/{channel}/settings")
    page.get_by_label("Number or pattern").fill(customer)
    page.get_by_label("What happens").select_option("fail")
    page.get_by_label('Code (for "fails")').fill("131049")
    page.get_by_label('Details (for "fails")').fill("Not delivered to maintain ecosystem health.")
    page.get_by_role("button", name="Add the rule").click()
    rule = page.locator(".rules li", has_text=customer)
    expect(rule).to_contain_text(
        "fails with 131049 instead of sent: Not delivered to maintain ecosystem health."
    )
    failed = send(server, "text", {"body": "hello?"}, to=customer)
    open_chat(page, server, customer)
    expect(bubble(page, failed).locator(".tick.failed")).to_contain_text("131049")
    page.goto(f"{server.base_url}/ui/{channel}/settings")
    page.get_by_role("button", name=f"Delete the rule for {customer}").click()
    expect(page.locator(".rules li", has_text=customer)).to_have_count(0)
    fine = send(server, "text", {"body": "hello again"}, to=customer)
    open_chat(page, server, customer)
    expect(bubble(page, fine)).to_have_attribute("data-state", "read", timeout=15_000)
