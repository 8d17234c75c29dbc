"""Scenario rules per recipient, so CI can script the unhappy paths.

A rule matches a recipient (wa_id) exactly ("16505550001") or by a pattern with ``*`` and
``?`` ("1650555*"), optionally only on one channel. Exact rules win over patterns; among
patterns the first added wins. Without a matching rule everything succeeds. Rules come from
the admin API (``/sandbox/scenarios``, stored in the database) and from a TOML file
(``WABOX_SCENARIOS``, read at start)::

    [[scenario]]
    match = "1650555*"
    not_on_whatsapp = true

    [[scenario]]
    match = "16505550002"
    fail = { code = 131049, details = "Not delivered to maintain ecosystem health." }
"""

from __future__ import annotations

import fnmatch
import secrets
import tomllib
from pathlib import Path

import msgspec

from wabox.schema.scenarios import Scenario
from wabox.store.database import Database
from wabox.store.scenarios import add_scenario, delete_scenario, stored_scenarios


def new_scenario_id() -> str:
    return "sc_" + secrets.token_hex(6)


class ScenarioBook:
    """All rules in memory: matching runs for every lifecycle step.

    The book is the one owner of the stored rules: ``add`` and ``delete`` write them and
    reload the book in one step; the books of other processes reload on their signal.
    Without a database it holds the file's rules only.
    """

    def __init__(
        self, from_file: list[Scenario] | None = None, database: Database | None = None
    ) -> None:
        self._file = from_file or []
        self._database = database
        self._stored: list[Scenario] = []
        self._exact: dict[tuple[str | None, str], Scenario] = {}
        self._patterns: list[Scenario] = []
        self._index()
        if database is not None:  # rules added or deleted by another process
            database.signals.subscribe("scenarios", lambda _arg: self.reload())

    async def reload(self) -> None:
        """Read the stored rules again."""
        self._stored = await stored_scenarios(self._store())
        self._index()

    async def add(self, scenario: Scenario, now: float) -> Scenario:
        """Store a new rule (its id is made here) and use it from now on."""
        scenario = msgspec.structs.replace(scenario, id=new_scenario_id())
        await add_scenario(self._store(), scenario, now)
        await self.reload()
        return scenario

    async def delete(self, scenario_id: str | None = None) -> int:
        """Delete one stored rule, or all of them (file rules stay); how many went."""
        deleted = await delete_scenario(self._store(), scenario_id)
        await self.reload()
        return deleted

    def _store(self) -> Database:
        if self._database is None:
            raise RuntimeError("this scenario book has no database")
        return self._database

    def all(self) -> list[Scenario]:
        return [*self._file, *self._stored]

    def _index(self) -> None:
        self._exact = {}
        self._patterns = []
        for rule in self.all():
            if rule.exact:
                self._exact.setdefault((rule.channel, rule.number), rule)
            else:
                self._patterns.append(rule)

    def match(self, channel_id: str, wa_id: str) -> Scenario | None:
        if not self._exact and not self._patterns:
            return None
        found = self._exact.get((channel_id, wa_id)) or self._exact.get((None, wa_id))
        if found is not None:
            return found
        for rule in self._patterns:
            if rule.channel in (None, channel_id) and fnmatch.fnmatchcase(wa_id, rule.number):
                return rule
        return None


class _File(msgspec.Struct, forbid_unknown_fields=True):
    scenario: list[Scenario] = msgspec.field(default_factory=list)


def load_scenario_file(path: Path) -> list[Scenario]:
    """Rules of a TOML file; ids are ``file:<n>`` so the API can tell them apart."""
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    try:
        parsed = msgspec.convert(raw, _File)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return [
        msgspec.structs.replace(rule, id=f"file:{n}")
        for n, rule in enumerate(parsed.scenario, start=1)
    ]
