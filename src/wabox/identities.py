"""Who a customer is to a business: a phone number (wa_id), a business-scoped user ID
(BSUID), and perhaps a username.

Since 2026 Meta names every customer with a BSUID, ``<ISO country>.<up to 128
alphanumerics>``, unique per business and customer and new when the customer's phone
number changes; a customer who adopts a username may reach a business with no phone number
in its webhooks at all, and the business answers them by BSUID (Meta for Developers,
WhatsApp Business Platform, "Business-scoped user IDs").

wabox derives a phone customer's BSUID from the business and the number with a keyed
permutation, so the BSUID a status webhook names is one a send's ``recipient`` can be
turned back into the number without a table to keep in step across processes. A customer
known only by username has a BSUID of its own, stored with its conversation.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import NamedTuple

from wabox.schema.messages import BSUID_PATTERN

_BSUID = re.compile(BSUID_PATTERN)
# Meta's rules for usernames (the same as a business's): a-z, 0-9, "." and "_", 3 to 35
# characters, at least one letter, no "." first, last or twice in a row, no "www" first.
USERNAME_PATTERN = r"^@?(?!www)(?!\.)(?!.*\.\.)(?=.*[a-z])[a-z0-9._]{3,35}(?<!\.)$"
_USERNAME = re.compile(USERNAME_PATTERN)

# ISO region of a BSUID by calling code; the longest matching prefix wins, "US" otherwise.
_REGIONS = {
    "1": "US", "7": "RU", "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "33": "FR",
    "34": "ES", "39": "IT", "44": "GB", "49": "DE", "52": "MX", "54": "AR", "55": "BR",
    "57": "CO", "61": "AU", "62": "ID", "63": "PH", "65": "SG", "81": "JP", "82": "KR",
    "86": "CN", "90": "TR", "91": "IN", "92": "PK", "234": "NG", "254": "KE", "351": "PT",
    "353": "IE", "966": "SA", "971": "AE", "972": "IL",
}  # fmt: skip
_HALF = 10**10  # the 20 digits are two halves of a Feistel network
_ROUNDS = 8
_PARENT = "wabox-parent"  # a parent BSUID is the same for every business of the portfolio


def is_bsuid(value: str) -> bool:
    return _BSUID.match(value) is not None


def is_parent(value: str) -> bool:
    return value[2:7] == ".ENT."


def is_username(value: str) -> bool:
    return _USERNAME.match(value) is not None


def region(wa_id: str) -> str:
    return next((_REGIONS[wa_id[:n]] for n in (3, 2, 1) if wa_id[:n] in _REGIONS), "US")


@functools.lru_cache(maxsize=65536)
def business_scoped_user_id(waba_id: str, wa_id: str) -> str:
    """The BSUID of the customer with phone number ``wa_id`` for this business."""
    return f"{region(wa_id)}.{_encode(waba_id, wa_id):020d}"


def parent_user_id(wa_id: str) -> str:
    """The parent BSUID shared by the businesses of one portfolio (``<ISO>.ENT.<digits>``)."""
    return f"{region(wa_id)}.ENT.{_encode(_PARENT, wa_id):020d}"


def phone_of(waba_id: str, bsuid: str) -> str | None:
    """The phone number behind a BSUID (or parent BSUID) wabox derived, else None."""
    head, _, digits = bsuid.rpartition(".")
    key = _PARENT if is_parent(bsuid) else waba_id
    if len(digits) != 20 or not digits.isdigit():
        return None
    wa_id = _decode(key, int(digits))
    if wa_id is None or region(wa_id) != head[:2]:
        return None
    return wa_id


def username_user_id(waba_id: str, username: str) -> str:
    """A BSUID for a simulated customer known only by username (no phone to derive it)."""
    return f"US.{_digits(f'{waba_id}:@{username.lstrip(chr(64))}')}"


def _digits(text: str) -> str:
    """24 digits from a hash: never a number ``phone_of`` decodes (that takes 20)."""
    digest = hashlib.sha256(text.encode()).digest()
    return f"{int.from_bytes(digest[:12], 'big') % 10**24:024d}"


class Identity(NamedTuple):
    """How webhooks name one customer: the phone number when it is shared, the BSUID
    always, and the parent BSUID for a business enrolled for parent BSUIDs."""

    wa_id: str | None
    user_id: str
    parent_user_id: str | None


def identity(waba_id: str, customer: str, parents: bool = False) -> Identity:
    """``customer`` is how wabox keys a customer: its phone number, or its BSUID when it
    reaches the business by username with no phone number shared."""
    if is_bsuid(customer):
        parent = None
        if parents:
            parent = f"{customer[:2]}.ENT.{_digits(f'{_PARENT}:{customer}')}"
        return Identity(None, customer, parent)
    return Identity(
        customer,
        business_scoped_user_id(waba_id, customer),
        parent_user_id(customer) if parents else None,
    )


def _round(key: str, index: int, half: int) -> int:
    digest = hashlib.blake2b(f"{key}:{index}:{half}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % _HALF


def _encode(key: str, wa_id: str) -> int:
    number = int(wa_id) * 100 + len(wa_id)  # the length keeps leading zeros
    check = _round(key, -1, number) % 1000
    value = number * 1000 + check  # < 10**20 for up to 15 digits
    left, right = divmod(value, _HALF)
    for index in range(_ROUNDS):
        left, right = right, (left + _round(key, index, right)) % _HALF
    return left * _HALF + right


def _decode(key: str, value: int) -> str | None:
    left, right = divmod(value, _HALF)
    for index in reversed(range(_ROUNDS)):
        left, right = (right - _round(key, index, left)) % _HALF, left
    number, check = divmod(left * _HALF + right, 1000)
    digits, length = divmod(number, 100)
    if not 5 <= length <= 15 or digits >= 10**length or _round(key, -1, number) % 1000 != check:
        return None
    return str(digits).zfill(length)
