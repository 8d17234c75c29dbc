"""Delivery rules, without a server: interactive messages' requirements, scenario matching.

The end-to-end tests (tests/api/test_messages.py, tests/delivery/test_scenarios.py) show the
rules reach the wire; these pin each rule down, in milliseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from wabox.delivery.message_rules import check_interactive
from wabox.delivery.scenarios import ScenarioBook
from wabox.errors import GraphError, InvalidParameter, MissingParameter
from wabox.schema.messages import InteractiveObject
from wabox.schema.scenarios import Scenario
from wabox.store.database import Database

# --- check_interactive -----------------------------------------------------------------------

BODY = {"text": "Pick one"}
ROW = {"id": "r1", "title": "Row"}
VALID: dict[str, dict[str, Any]] = {
    "button": {
        "body": BODY,
        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]},
    },
    "list": {"body": BODY, "action": {"button": "Menu", "sections": [{"rows": [ROW]}]}},
    "cta_url": {
        "body": BODY,
        "action": {"name": "cta_url", "parameters": {"display_text": "Go", "url": "https://x"}},
    },
    "flow": {"body": BODY, "action": {"name": "flow", "parameters": {"flow_id": "1"}}},
    "location_request_message": {"body": BODY, "action": {"name": "send_location"}},
    "address_message": {"body": BODY, "action": {"name": "address_message"}},
    "catalog_message": {"action": {"name": "catalog_message"}},
    "product": {"action": {"catalog_id": "c1", "product_retailer_id": "sku-1"}},
    "product_list": {"action": {"catalog_id": "c1", "sections": [{"title": "All"}]}},
}


def interactive(kind: str, **changes: Any) -> InteractiveObject:
    """A valid interactive object of ``kind``, with ``changes`` (None removes a field; an
    ``action`` dict is merged into the valid one), decoded by the schema as on a send."""
    spec: dict[str, Any] = {"type": kind, **VALID[kind]}
    if "action" in changes:
        spec["action"] = {**spec["action"], **changes.pop("action")}
        spec["action"] = {k: v for k, v in spec["action"].items() if v is not None}
    spec.update(changes)
    spec = {k: v for k, v in spec.items() if v is not None}
    return msgspec.convert(spec, InteractiveObject)


def refusal(kind: str, **changes: Any) -> GraphError:
    with pytest.raises(GraphError) as caught:
        check_interactive(interactive(kind, **changes))
    return caught.value


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_complete_interactive_message_of_each_type_passes(kind: str) -> None:
    assert check_interactive(interactive(kind)) is None


@pytest.mark.parametrize(
    "kind", ["button", "list", "cta_url", "flow", "location_request_message", "address_message"]
)
def test_these_types_need_a_body(kind: str) -> None:
    error = refusal(kind, body=None)
    assert isinstance(error, MissingParameter)
    assert error.code == 131008
    assert error.details == f"The parameter interactive['body'] is required for type {kind}."


@pytest.mark.parametrize("kind", ["catalog_message", "product", "product_list"])
def test_these_types_do_without_a_body(kind: str) -> None:
    assert check_interactive(interactive(kind, body=None)) is None


def test_headers() -> None:
    image = {"type": "image", "image": {"link": "https://x.example/a.jpg"}}
    assert check_interactive(interactive("button", header=image)) is None
    assert check_interactive(interactive("list", header={"type": "text", "text": "Hi"})) is None
    on_a_list = refusal("list", header=image)
    assert isinstance(on_a_list, InvalidParameter)
    assert on_a_list.details == (
        "Param interactive['header']['type'] must be text for list messages."
    )
    empty = refusal("button", header={"type": "video"})
    assert isinstance(empty, MissingParameter)
    assert empty.details == "The parameter interactive['header']['video'] is required."


def test_reply_buttons() -> None:
    missing = refusal("button", action={"buttons": None})
    assert isinstance(missing, MissingParameter)
    assert missing.details == "The parameter interactive['action']['buttons'] is required."
    twice = {"type": "reply", "reply": {"id": "same", "title": "A"}}
    again = {"type": "reply", "reply": {"id": "same", "title": "B"}}
    duplicate = refusal("button", action={"buttons": [twice, again]})
    assert isinstance(duplicate, InvalidParameter)
    assert duplicate.details == "Param interactive['action']['buttons'] must have unique ids."


@pytest.mark.parametrize(
    ("action", "error", "details"),
    [
        (
            {"button": None},
            MissingParameter,
            "The parameter interactive['action']['button'] is required.",
        ),
        (
            {"sections": None},
            MissingParameter,
            "The parameter interactive['action']['sections'] is required.",
        ),
        (
            {"sections": [{"title": "Empty"}]},
            MissingParameter,
            "The parameter interactive['action']['sections'][0]['rows'] is required.",
        ),
        (
            {
                "sections": [
                    {"title": "A", "rows": [{**ROW, "id": f"a{n}"} for n in range(6)]},
                    {"title": "B", "rows": [{**ROW, "id": f"b{n}"} for n in range(5)]},
                ]
            },
            InvalidParameter,
            "Param interactive['action']['sections'] may hold at most 10 rows in all - got 11.",
        ),
        (
            {"sections": [{"title": "A", "rows": [ROW]}, {"rows": [{**ROW, "id": "r2"}]}]},
            MissingParameter,
            "The parameter interactive['action']['sections'][]['title'] is required when "
            "there is more than one section.",
        ),
    ],
    ids=["no-button", "no-sections", "no-rows", "eleven-rows", "untitled-section"],
)
def test_lists(action: dict[str, Any], error: type[GraphError], details: str) -> None:
    refused = refusal("list", action=action)
    assert type(refused) is error
    assert refused.details == details


def test_ten_rows_in_two_titled_sections_are_a_list() -> None:
    sections = [
        {"title": "A", "rows": [{**ROW, "id": f"a{n}"} for n in range(5)]},
        {"title": "B", "rows": [{**ROW, "id": f"b{n}"} for n in range(5)]},
    ]
    assert check_interactive(interactive("list", action={"sections": sections})) is None


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("cta_url", "cta_url"),
        ("flow", "flow"),
        ("location_request_message", "send_location"),
        ("catalog_message", "catalog_message"),
        ("address_message", "address_message"),
    ],
)
def test_the_action_name_must_match_the_type(kind: str, name: str) -> None:
    error = refusal(kind, action={"name": "something_else"})
    assert isinstance(error, InvalidParameter)
    assert error.details == (
        f"Param interactive['action']['name'] must be \"{name}\" for type {kind} - "
        'got "something_else".'
    )


@pytest.mark.parametrize("kind", ["cta_url", "flow"])
def test_cta_and_flow_need_parameters(kind: str) -> None:
    for empty in (None, {}):
        error = refusal(kind, action={"parameters": empty})
        assert isinstance(error, MissingParameter)
        assert error.details == "The parameter interactive['action']['parameters'] is required."


def test_products_need_their_catalogue_and_the_product() -> None:
    for kind in ("product", "product_list"):
        error = refusal(kind, action={"catalog_id": None})
        assert isinstance(error, MissingParameter)
        assert error.details == "The parameter interactive['action']['catalog_id'] is required."
    error = refusal("product", action={"product_retailer_id": None})
    assert error.details == (
        "The parameter interactive['action']['product_retailer_id'] is required."
    )


# --- ScenarioBook.match ------------------------------------------------------------------------

SHOP = "106540352242922"
OTHER = "106540352242999"


def rule(match: str, name: str | None = None, channel: str | None = None) -> Scenario:
    return msgspec.convert({"match": match, "id": name, "channel": channel}, Scenario)


def matched(book: ScenarioBook, wa_id: str, channel: str = SHOP) -> str | None:
    found = book.match(channel, wa_id)
    return None if found is None else found.id


def test_no_rules_match_nothing() -> None:
    assert matched(ScenarioBook(), "16505550001") is None
    book = ScenarioBook([rule("1650555000?", "pattern")])
    assert matched(book, "16505550001") == "pattern"
    assert matched(book, "165055500012") is None  # ? is one character
    assert matched(book, "16505551001") is None


def test_an_exact_rule_beats_any_pattern() -> None:
    book = ScenarioBook([rule("1650555*", "pattern"), rule("16505550001", "exact")])
    assert matched(book, "16505550001") == "exact"
    assert matched(book, "16505550002") == "pattern"
    assert matched(ScenarioBook([rule("+16505550001", "plus")]), "16505550001") == "plus"


def test_the_first_pattern_wins() -> None:
    """Not the most specific: the first added, whichever it is."""
    broad_first = ScenarioBook([rule("1650555*", "broad"), rule("16505550*", "narrow")])
    assert matched(broad_first, "16505550001") == "broad"
    narrow_first = ScenarioBook([rule("16505550*", "narrow"), rule("1650555*", "broad")])
    assert matched(narrow_first, "16505550001") == "narrow"
    assert matched(narrow_first, "16505551001") == "broad"


def test_the_first_exact_rule_for_a_number_wins() -> None:
    book = ScenarioBook([rule("16505550001", "first"), rule("+16505550001", "second")])
    assert matched(book, "16505550001") == "first"


def test_rules_scoped_to_a_channel_apply_only_there() -> None:
    book = ScenarioBook(
        [
            rule("16505550001", "global-exact"),
            rule("16505550001", "shop-exact", channel=SHOP),
            rule("1650555*", "shop-pattern", channel=SHOP),
            rule("1650555*", "global-pattern"),
        ]
    )
    assert matched(book, "16505550001", SHOP) == "shop-exact"
    assert matched(book, "16505550001", OTHER) == "global-exact"
    assert matched(book, "16505550002", SHOP) == "shop-pattern"
    assert matched(book, "16505550002", OTHER) == "global-pattern"


@pytest.mark.anyio
async def test_stored_rules_come_after_the_files(tmp_path: Path) -> None:
    """Rules added through the API (here on a SQLite file, no server) join the file's."""
    database = await Database.open(f"sqlite:///{tmp_path / 'wabox.sqlite3'}")
    try:
        book = ScenarioBook([rule("1650555*", "file-pattern")], database)
        added = await book.add(rule("1*"), now=0.0)
        exact = await book.add(rule("16505550001"), now=1.0)
        assert added.id != exact.id and (added.id or "").startswith("sc_")
        assert matched(book, "16505550002") == "file-pattern"  # the file's pattern is first
        assert matched(book, "14155550001") == added.id
        assert matched(book, "16505550001") == exact.id  # exact beats the file's pattern
        assert await book.delete(exact.id) == 1
        assert matched(book, "16505550001") == "file-pattern"
        assert await book.delete() == 1  # every stored rule; the file's stay
        assert [r.id for r in book.all()] == ["file-pattern"]
    finally:
        await database.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
