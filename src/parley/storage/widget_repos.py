"""SQL for chat widgets: one row each, the settings as a JSON document, the name unique per instance."""

from __future__ import annotations

import sqlalchemy as sa

from parley.domain.codec import from_json, to_json
from parley.domain.widgets import Widget
from parley.storage import schema as t
from parley.storage.repo_base import SqlRepo

_widgets = t.widgets.c
_GET_WIDGET = sa.select(_widgets.data).where(_widgets.id == sa.bindparam("id"))
_WIDGET_BY_NAME = sa.select(_widgets.data).where(_widgets.instance_id == sa.bindparam("instance"),
                                                 _widgets.name == sa.bindparam("name"))
_WIDGETS_OF_INSTANCE = (sa.select(_widgets.data).where(_widgets.instance_id == sa.bindparam("instance"))
                        .order_by(_widgets.name, _widgets.id))


class WidgetSql(SqlRepo):
    """:class:`parley.service.repositories.Widgets` in SQL."""

    __slots__ = ()

    async def find(self, widget_id: str) -> Widget | None:
        row = (await self.conn.execute(_GET_WIDGET, {"id": widget_id})).first()
        return None if row is None else from_json(Widget, dict(row[0]))

    async def find_by_name(self, instance_id: str, name: str) -> Widget | None:
        row = (await self.conn.execute(_WIDGET_BY_NAME, {"instance": instance_id, "name": name})).first()
        return None if row is None else from_json(Widget, dict(row[0]))

    async def all(self, instance_id: str) -> list[Widget]:
        """The instance's widgets by name (byte-wise, as Python sorts ``str``)."""
        rows = (await self.conn.execute(_WIDGETS_OF_INSTANCE, {"instance": instance_id})).all()
        return [from_json(Widget, dict(r[0])) for r in rows]

    async def add(self, widget: Widget) -> None:
        await self.conn.execute(t.widgets.insert().values(
            id=widget.id, instance_id=widget.instance_id, name=widget.name, data=to_json(widget),
        ))

    async def update(self, widget: Widget) -> None:
        await self.conn.execute(
            t.widgets.update().where(_widgets.id == widget.id).values(name=widget.name, data=to_json(widget))
        )

    async def delete(self, widget_id: str) -> bool:
        """Delete the widget; False when there was none."""
        result = await self.conn.execute(t.widgets.delete().where(_widgets.id == widget_id))
        return bool(result.rowcount)
