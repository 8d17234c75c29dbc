"""The customer service window and what a message costs inside or outside it (wire-facts §6).

A customer's message opens a 24-hour window for that (channel, customer). Inside it any
message may be sent; outside it only templates, and anything else is accepted and then
fails with 131047, as on Meta's platform. Since 1 July 2025 pricing is per message:
non-template messages are free customer service, utility templates are free inside an
open window, marketing and authentication templates are always charged.
"""

from __future__ import annotations

from wabox.errors import ReEngagement

WINDOW = 24 * 3600.0

REENGAGEMENT_DETAILS = (
    "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number."
)


def reengagement_error() -> ReEngagement:
    """Meta's exact failure for a non-template message to a closed window (§4.3)."""
    return ReEngagement(REENGAGEMENT_DETAILS)


def window_is_open(expires_at: float | None, now: float) -> bool:
    return expires_at is not None and expires_at > now


def pricing(category: str | None, window_open: bool) -> tuple[str, str]:
    """(``pricing.category``, ``pricing.type``) of a message: ``category`` is the
    template's (lower case), None for a non-template message."""
    if category is None:
        return "service", "free_customer_service"
    if category == "utility" and window_open:
        return "utility", "free_customer_service"
    return category, "regular"
