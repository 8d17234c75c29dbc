"""Settings from flags and ``WABOX_*`` environment variables.

Each setting has one ``WABOX_`` twin; ``SETTINGS`` is the single list the CLI, the README
table and its drift test read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    env: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "WABOX_HOST", "127.0.0.1", "Address to listen on."),
    Setting("port", "WABOX_PORT", "8360", "Port for both API dialects, the sandbox API and docs."),
    Setting(
        "data_dir",
        "WABOX_DATA_DIR",
        "./wabox-data",
        "Folder for the embedded database and media; created on first start.",
    ),
    Setting(
        "database_url",
        "WABOX_DATABASE_URL",
        "sqlite:///<data-dir>/wabox.sqlite3",
        "Database: `sqlite:///path` (embedded, WAL) or `postgresql://user@host/db`.",
    ),
    Setting(
        "media_url",
        "WABOX_MEDIA_URL",
        "<data-dir>/media",
        "Where media bytes live: a folder, or `s3://bucket/prefix`.",
    ),
    Setting(
        "api_key",
        "WABOX_API_KEY",
        "(generated once)",
        "The default channel's API key, accepted as `D360-API-KEY` and as `Authorization: Bearer`.",
    ),
    Setting(
        "admin_token",
        "WABOX_ADMIN_TOKEN",
        "(generated once)",
        "Bearer token for the `/sandbox/` admin API.",
    ),
    Setting(
        "media_url_ttl",
        "WABOX_MEDIA_URL_TTL",
        "300",
        "Seconds a download URL from `GET /{media_id}` stays valid.",
    ),
    Setting(
        "media_ttl",
        "WABOX_MEDIA_TTL",
        "2592000",
        "Seconds uploaded media lives (30 days, as on Meta's API).",
    ),
    Setting(
        "media_upload_rate",
        "WABOX_MEDIA_UPLOAD_RATE",
        "25",
        "Uploads per second per channel (360dialog's limit); more get code 4. 0 switches it off.",
    ),
    Setting(
        "sweep_interval",
        "WABOX_SWEEP_INTERVAL",
        "600",
        "Seconds between sweeps that remove expired or deleted media and unused bytes.",
    ),
    Setting(
        "link_allow",
        "WABOX_LINK_ALLOW",
        "(none)",
        "Hosts or CIDRs media links may reach although private or loopback, e.g. `127.0.0.1`.",
    ),
    Setting(
        "link_connect_timeout",
        "WABOX_LINK_CONNECT_TIMEOUT",
        "5",
        "Seconds to connect to a media link's host before the message fails with 131053.",
    ),
    Setting(
        "link_timeout",
        "WABOX_LINK_TIMEOUT",
        "20",
        "Seconds a whole media link fetch may take, redirects included.",
    ),
    Setting(
        "clock",
        "WABOX_CLOCK",
        "real",
        "`real`, or `virtual`: time moves only by `POST /sandbox/clock/advance` (for tests).",
    ),
    Setting(
        "scenarios",
        "WABOX_SCENARIOS",
        "(none)",
        "A TOML file of scenario rules per recipient, read at start (see `/sandbox/scenarios`).",
    ),
    Setting(
        "ui_open",
        "WABOX_UI_OPEN",
        "0",
        "1: the web inbox at / opens without the token link (for a purely local sandbox).",
    ),
    Setting(
        "redis_url",
        "WABOX_REDIS_URL",
        "(none)",
        "Redis for the throughput limits' buckets, shared by every wabox process; "
        "in memory without it.",
    ),
    Setting(
        "channel_defaults",
        "WABOX_CHANNEL_DEFAULTS",
        "{}",
        "JSON object of channel settings every new channel starts with, e.g. "
        '`{"enforce_window": false}`; settings named when creating a channel win.',
    ),
    Setting(
        "webhook_timeout",
        "WABOX_WEBHOOK_TIMEOUT",
        "5",
        "Seconds a webhook receiver has to answer 2xx before the delivery is retried.",
    ),
    Setting(
        "webhook_retry_for",
        "WABOX_WEBHOOK_RETRY_FOR",
        "604800",
        "Seconds a webhook is retried (with backoff) before it is dead (7 days, as Meta).",
    ),
    Setting(
        "workers",
        "WABOX_WORKERS",
        "1",
        "Server processes sharing the port; more than 1 needs PostgreSQL (`WABOX_DATABASE_URL`).",
    ),
    Setting(
        "role",
        "WABOX_ROLE",
        "all",
        "`all`, `api` (HTTP only: no background work) or `worker` (statuses, webhooks and "
        "media sweeps; HTTP only for `/health`, `/livez`, `/readyz` and `/metrics`).",
    ),
    Setting(
        "migrate",
        "WABOX_MIGRATE",
        "1",
        "0: do not migrate the database on start; refuse one `wabox migrate` has not brought "
        "to this version.",
    ),
    Setting(
        "max_body_bytes",
        "WABOX_MAX_BODY_BYTES",
        "1048576",
        "Largest JSON request body accepted; larger bodies get HTTP 413 in the Graph envelope.",
    ),
)


ROLES = ("all", "api", "worker")


@dataclass(frozen=True, slots=True)
class Config:
    """Resolved settings for one server process."""

    host: str = "127.0.0.1"
    port: int = 8360
    data_dir: Path = Path("./wabox-data")
    database_url: str | None = None
    media_url: str | None = None
    api_key: str | None = None
    admin_token: str | None = None
    media_url_ttl: int = 300
    media_ttl: int = 30 * 86400
    media_upload_rate: int = 25
    sweep_interval: int = 600
    link_allow: str = ""
    link_connect_timeout: float = 5.0
    link_timeout: float = 20.0
    clock: str = "real"
    scenarios: Path | None = None
    ui_open: bool = False
    redis_url: str | None = None
    channel_defaults: str = "{}"
    webhook_timeout: float = 5.0
    webhook_retry_for: float = 7 * 86400.0
    workers: int = 1
    role: str = "all"
    migrate: bool = True
    max_body_bytes: int = 1_048_576

    @property
    def runs_http_api(self) -> bool:
        return self.role in ("all", "api")

    @property
    def runs_workers(self) -> bool:
        return self.role in ("all", "worker")

    def problem(self) -> str | None:
        """A combination of settings that cannot work, in one line."""
        if self.role not in ROLES:
            return f"WABOX_ROLE must be one of {', '.join(ROLES)}, got {self.role!r}"
        if self.workers < 1:
            return f"WABOX_WORKERS must be at least 1, got {self.workers}"
        if self.workers > 1 and self.resolved_database_url.startswith("sqlite"):
            return (
                "several workers need a database they can share: set WABOX_DATABASE_URL to "
                "a PostgreSQL database (SQLite serves one process)"
            )
        return None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'wabox.sqlite3'}"

    @property
    def resolved_media_url(self) -> str:
        return self.media_url or str(self.data_dir / "media")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Environment first, then explicit overrides (CLI flags) that are not None."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for setting in SETTINGS:
            raw = environ.get(setting.env)
            if raw is None or raw == "":
                continue
            values[setting.name] = _convert(types[setting.name], raw, setting.env)
        config = cls(**values)
        given = {key: value for key, value in overrides.items() if value is not None}
        if "data_dir" in given:
            given["data_dir"] = Path(given["data_dir"])
        return replace(config, **given)


def _convert(kind: Any, raw: str, env: str) -> Any:
    if kind in ("bool", bool):
        if raw.lower() not in ("0", "1", "true", "false", "yes", "no"):
            raise ValueError(f"{env} must be 0 or 1, got {raw!r}")
        return raw.lower() in ("1", "true", "yes")
    if kind in ("int", int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{env} must be an integer, got {raw!r}") from None
    if kind in ("float", float):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{env} must be a number, got {raw!r}") from None
    if kind in ("Path", Path, "Path | None"):
        return Path(raw)
    return raw
