"""Kept for ``from wabox.ui.routes import inbox_link`` until the CLI imports it from
:mod:`wabox.ui.signin`; the inbox's routes are listed in ``wabox.app.routes``."""

from wabox.ui.signin import inbox_link

__all__ = ["inbox_link"]
