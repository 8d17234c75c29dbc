"""The inbox's HTML: one Jinja environment with its filters, and ``page`` to answer with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
from starlette.responses import HTMLResponse

from wabox.identities import is_bsuid
from wabox.media.inspect import human_size
from wabox.ui.present import MEDIA_KINDS, clock_time, describe, last_preview, stamp

REACTIONS = ("👍", "❤️", "😂", "🙏")

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["clock"] = clock_time
_env.filters["stamp"] = stamp
_env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False)
_env.filters["size"] = human_size
# A customer: "+" and its phone number, or its BSUID when it shares no number.
_env.filters["customer"] = lambda key: key if is_bsuid(str(key)) else f"+{key}"
_env.tests["bsuid"] = lambda key: is_bsuid(str(key))
_env.globals["last_preview"] = last_preview
_env.globals["describe"] = describe
_env.globals["REACTIONS"] = REACTIONS
_env.globals["MEDIA_KINDS"] = MEDIA_KINDS


def page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status_code)
