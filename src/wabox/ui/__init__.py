"""The web inbox at ``/``: every conversation as the customer's phone shows it, live.

Pages are rendered on the server (``pages``, ``render``); htmx (vendored in ``static/``)
swaps the parts, and one Server-Sent Events stream (``live``) tells the page when anything
changed. ``signin`` keeps it closed without the admin token; ``forms`` takes what the tester
posts as the customer or the channel's owner.
"""

from pathlib import Path

STATIC = Path(__file__).parent / "static"
