"""Items are stored as orjson writes the dataclass (``storage.chat_repos.item_text``), not through the generic
``to_json``: the stored text must be the same either way, so that every reader (``from_json``) gets what it did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from parley.domain.codec import from_json, to_json
from parley.domain.transcript import Attachment, Item, Receipt
from parley.storage.chat_repos import item_text

WHEN = datetime(2026, 12, 6, 7, 30, 1, 123456, tzinfo=UTC)


def items() -> list[Item]:
    plain = Item(chat_id="c1", id="0193a1b2-0000-7000-8000-000000000001", type="MESSAGE", content_type="text/plain",
                 absolute_time=WHEN, contact_id="k1", seq=7, content='hé "quoted" \\ \u2028 😀', participant_id="p1",
                 display_name="Jane <b>", role="CUSTOMER", client_token="t")
    return [
        plain,
        Item(chat_id="c1", id="i2", type="EVENT", content_type="application/vnd.amazonaws.connect.event.typing",
             absolute_time=WHEN.replace(microsecond=0), contact_id="k1"),
        Item(chat_id="c1", id="i3", type="MESSAGEMETADATA", content_type="x", absolute_time=WHEN, contact_id="k1",
             message_id="i1", receipts=(Receipt("p2", delivered=WHEN, read=None),
                                        Receipt("p3", delivered=WHEN + timedelta(seconds=1), read=WHEN))),
        Item(chat_id="c1", id="i4", type="ATTACHMENT", content_type="application/pdf", absolute_time=WHEN,
             contact_id="k1", attachments=(Attachment("a1", "f.pdf", "application/pdf"),
                                           Attachment("a2", "g.png", "image/png", "REJECTED"))),
        Item(chat_id="c1", id="i5", type="MESSAGE", content_type="text/plain", contact_id="k1", content="x",
             absolute_time=WHEN.astimezone(timezone(timedelta(hours=2)))),
    ]


@pytest.mark.parametrize("item", items(), ids=lambda i: i.id)
def test_the_stored_text_is_to_jsons_and_reads_back_as_the_item(item: Item) -> None:
    text = item_text(item)
    assert text == orjson.dumps(to_json(item)).decode()
    assert from_json(Item, orjson.loads(text)) == item
