"""The per-channel template registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from wabox.schema.templates import AdminTemplate, Component
from wabox.store.tables import templates

if TYPE_CHECKING:
    from wabox.store.database import Database

_components = msgspec.json.Decoder(list[Component])


def _template(row: Any) -> AdminTemplate:
    return AdminTemplate(
        id=row.id,
        channel=row.channel_id,
        name=row.name,
        language=row.language,
        status=row.status,
        category=row.category,
        parameter_format=row.parameter_format,
        components=_components.decode(row.components),
        rejected_reason=row.rejected_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def add_template(database: Database, template: AdminTemplate) -> bool:
    """Store a new template; False when the channel has one of that name and language."""
    values = {
        "id": template.id,
        "channel_id": template.channel,
        "name": template.name,
        "language": template.language,
        "category": template.category,
        "status": template.status,
        "parameter_format": template.parameter_format,
        "components": msgspec.json.encode(template.components).decode(),
        "rejected_reason": template.rejected_reason,
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }

    def write(connection: sa.Connection) -> int:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        query = dialect.insert(templates).values(**values).on_conflict_do_nothing()
        return connection.execute(query).rowcount

    return bool(await database.writer.run(write))


async def find_template(
    database: Database, channel_id: str, name: str, language: str
) -> AdminTemplate | None:
    query = sa.select(templates).where(
        templates.c.channel_id == channel_id,
        templates.c.name == name,
        templates.c.language == language,
    )
    async with database.engine.connect() as connection:
        row = (await connection.execute(query)).first()
    return None if row is None else _template(row)


async def get_template(database: Database, template_id: str) -> AdminTemplate | None:
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(sa.select(templates).where(templates.c.id == template_id))
        ).first()
    return None if row is None else _template(row)


async def list_templates(
    database: Database,
    *,
    channel_id: str | None = None,
    name: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AdminTemplate], int]:
    """One page by name and language (360dialog's default sort; stable for offsets), and
    the total that matched."""
    where = []
    if channel_id is not None:
        where.append(templates.c.channel_id == channel_id)
    if name is not None:
        where.append(templates.c.name == name)
    if status is not None:
        where.append(templates.c.status == status)
    query = (
        sa.select(templates)
        .where(*where)
        .order_by(templates.c.name, templates.c.language, templates.c.id)
        .limit(limit)
        .offset(offset)
    )
    count = sa.select(sa.func.count()).select_from(templates).where(*where)
    async with database.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
        total = int(await connection.scalar(count) or 0)
    return [_template(row) for row in rows], total


async def update_template(
    database: Database, template_id: str, values: dict[str, Any]
) -> AdminTemplate | None:
    def write(connection: sa.Connection) -> Any:
        connection.execute(
            sa.update(templates).where(templates.c.id == template_id).values(**values)
        )
        return connection.execute(sa.select(templates).where(templates.c.id == template_id)).first()

    row = await database.writer.run(write)
    return None if row is None else _template(row)


async def delete_templates(
    database: Database, channel_id: str, name: str, template_id: str | None = None
) -> int:
    """Every language of ``name`` (as both APIs delete by name), or the one ``template_id``."""

    def write(connection: sa.Connection) -> int:
        query = sa.delete(templates).where(
            templates.c.channel_id == channel_id, templates.c.name == name
        )
        if template_id is not None:
            query = query.where(templates.c.id == template_id)
        return connection.execute(query).rowcount

    return await database.writer.run(write)
