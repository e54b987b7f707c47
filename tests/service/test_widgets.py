"""The widget use cases on a real SQLite database: managing widgets, starting chats from browsers (every check in
its order, each refusal creating nothing), the test chat page's rules, the chat start rate and the demo widget."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest

from parley.aws.participant.items import chat_frame
from parley.domain.callers import SYSTEM, Member
from parley.domain.contact import QUEUED, Contact
from parley.domain.errors import AccessDenied, Duplicate, InvalidParameter, InvalidRequest, NotFound
from parley.domain.permissions import SETTINGS_EDIT, SETTINGS_VIEW
from parley.domain.resources import ContactFlow, User
from parley.domain.widget_tokens import WidgetTokenInvalid
from parley.domain.widgets import WIDGET_CONTENT_TYPES, OriginNotAllowed
from parley.fanout.local import LocalBus
from parley.service.auth import AuthService
from parley.service.chat_starts import ChatStartLimiter, ChatStartsThrottled, StartRate, configured_limiter
from parley.service.contacts import ContactService
from parley.service.demo import DEMO_PASSWORD, DEMO_WIDGET_NAME, ensure_demo
from parley.service.directory import DirectoryService
from parley.service.instances import AGENT_TRANSFER_FLOW, SAMPLE_INBOUND_FLOW, InstanceService
from parley.service.notify import Notifier
from parley.service.passwords import Passwords
from parley.service.quick_connects import QuickConnectService
from parley.service.widgets import SignInRequired, WidgetChanges, WidgetService
from parley.storage import open_storage
from parley.storage.database import SqlStorage

BASE = "http://127.0.0.1:8800"
T0 = datetime(2031, 5, 6, tzinfo=UTC)
SITE = "https://shop.example"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    storage: SqlStorage
    instances: InstanceService
    auth: AuthService
    contacts: ContactService
    directory: DirectoryService
    clock: Clock

    def widgets(self, *, demo: bool = False, limiter: ChatStartLimiter | None = None) -> WidgetService:
        return WidgetService(self.storage, self.contacts, self.auth, base_url=BASE + "/", demo=demo, limiter=limiter)

    async def flow(self, instance_id: str, name: str = SAMPLE_INBOUND_FLOW) -> str:
        async with self.storage.transaction() as uow:
            found = await uow.resources.find_by_name(ContactFlow, instance_id, name)
        assert found is not None
        return found.id

    async def queued(self, instance_id: str) -> list[Contact]:
        async with self.storage.transaction() as uow:
            return await uow.contacts.in_state(instance_id, QUEUED, 1000)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'parley.db'}")
    passwords = Passwords(fast=True)
    contacts = ContactService(storage, Notifier(LocalBus(), chat_frame))
    yield World(storage, InstanceService(storage), AuthService(storage, passwords), contacts,
                DirectoryService(storage, passwords), Clock())
    await storage.close()


async def new_instance(world: World, alias: str = "shop") -> str:
    return (await world.instances.create_instance(SYSTEM, alias, "CONNECT_MANAGED", True, True)).id


# managing widgets ------------------------------------------------------------------------------------------


async def test_create_get_list_update_rotate_delete(world: World) -> None:
    iid = await new_instance(world)
    flow = await world.flow(iid)
    widgets = world.widgets()
    widget = await widgets.create(SYSTEM, iid, "Support", flow, allowed_origins=(SITE, "https://Shop.example:443"),
                                  greeting="Hello!")
    assert (widget.instance_id, widget.contact_flow_id, widget.allowed_origins) == (iid, flow, (SITE,))
    assert widget.security_key is None and await widgets.get(widget.id) == widget
    flow_arn = f"arn:aws:connect:us-west-2:1:instance/{iid}/contact-flow/{flow}"
    secure = await widgets.create(SYSTEM, iid, "Accounts", flow_arn, secure=True)
    assert secure.contact_flow_id == flow and secure.security_key and len(secure.security_key) == 44
    assert [w.name for w in await widgets.list_widgets(SYSTEM, iid)] == ["Accounts", "Support"]

    changed = await widgets.update(SYSTEM, widget.id, WidgetChanges(title="Talk to us", greeting="", secure=True,
                                                            allowed_origins=()))
    assert (changed.title, changed.greeting, changed.allowed_origins) == ("Talk to us", None, ())
    assert changed.security_key and changed.last_modified_time >= widget.last_modified_time
    assert (await widgets.update(SYSTEM, widget.id, WidgetChanges(secure=True))).security_key == changed.security_key
    rotated = await widgets.rotate_key(SYSTEM, widget.id)
    assert rotated.security_key and rotated.security_key != changed.security_key
    assert (await widgets.update(SYSTEM, widget.id, WidgetChanges(secure=False))).security_key is None

    await widgets.delete(SYSTEM, widget.id)
    with pytest.raises(NotFound, match="was not found"):
        await widgets.get(widget.id)
    with pytest.raises(NotFound):
        await widgets.delete(SYSTEM, widget.id)


async def test_refused_settings_change_nothing(world: World) -> None:
    iid = await new_instance(world)
    flow = await world.flow(iid)
    widgets = world.widgets()
    widget = await widgets.create(SYSTEM, iid, "Support", flow)
    other = await widgets.create(SYSTEM, iid, "Sales", flow)
    with pytest.raises(Duplicate, match="already has a widget named 'Support'"):
        await widgets.create(SYSTEM, iid, " Support ", flow)
    with pytest.raises(Duplicate):
        await widgets.update(SYSTEM, other.id, WidgetChanges(name="Support"))
    with pytest.raises(InvalidParameter, match="type AGENT_TRANSFER"):
        await widgets.create(SYSTEM, iid, "Transfers", await world.flow(iid, AGENT_TRANSFER_FLOW))
    with pytest.raises(NotFound, match="Contact flow"):
        await widgets.update(SYSTEM, widget.id, WidgetChanges(contact_flow_id="no-such-flow"))
    with pytest.raises(NotFound, match="Instance"):
        await widgets.create(SYSTEM, "no-such-instance", "X", flow)
    with pytest.raises(InvalidParameter, match="contrast"):
        await widgets.update(SYSTEM, widget.id, WidgetChanges(primary_color="#ffff00"))
    with pytest.raises(NotFound):
        await widgets.get("not-a-widget-id\x00")
    assert await widgets.get(widget.id) == widget
    assert [w.name for w in await widgets.list_widgets(SYSTEM, iid)] == ["Sales", "Support"]


async def test_members_need_the_instances_chat_settings_permissions(world: World) -> None:
    iid = await new_instance(world)
    other = await new_instance(world, "elsewhere")
    widgets = world.widgets()
    widget = await widgets.create(SYSTEM, iid, "Support", await world.flow(iid))

    def member(instance_id: str, *permissions: str) -> Member:
        return Member(User(instance_id, "u-1", "pat", T0), frozenset(permissions))

    viewer, editor = member(iid, SETTINGS_VIEW), member(iid, SETTINGS_VIEW, SETTINGS_EDIT)
    assert await widgets.describe(viewer, widget.id) == widget
    assert [w.id for w in await widgets.list_widgets(viewer, iid)] == [widget.id]
    with pytest.raises(AccessDenied, match=r"TelephonyAndChat\.Edit"):
        await widgets.update(viewer, widget.id, WidgetChanges(title="Nope"))
    for attempt in (widgets.rotate_key(viewer, widget.id), widgets.delete(viewer, widget.id),
                    widgets.create(viewer, iid, "Sales", await world.flow(iid))):
        with pytest.raises(AccessDenied):
            await attempt
    with pytest.raises(AccessDenied, match="own instance"):
        await widgets.describe(member(other, SETTINGS_VIEW, SETTINGS_EDIT), widget.id)
    assert (await widgets.update(editor, widget.id, WidgetChanges(title="Yes"))).title == "Yes"
    assert await widgets.get(widget.id) == await widgets.describe(SYSTEM, widget.id)


# starting chats from a widget --------------------------------------------------------------------------------


async def test_a_chat_starts_in_the_widgets_instance_and_flow(world: World) -> None:
    iid = await new_instance(world)
    flow = await world.flow(iid)
    widgets = world.widgets()
    widget = await widgets.create(SYSTEM, iid, "Support", flow, allowed_origins=(SITE,))
    started = await widgets.start(widget.id, SITE, "  Jane ", {"page": "/pricing"}, None, "203.0.113.5")
    [contact] = await world.queued(iid)
    assert contact.id == started.contact_id and contact.flow_id == flow
    assert contact.customer_display_name == "Jane" and contact.attributes == {"page": "/pricing"}
    assert contact.supported_content_types == WIDGET_CONTENT_TYPES
    # Parley's own origin (its chat window and test page) is allowed for every widget.
    await widgets.start(widget.id, BASE, "Joe", {}, None, "203.0.113.5")
    assert len(await world.queued(iid)) == 2


async def test_refusals_come_in_order_and_create_nothing(world: World) -> None:
    iid = await new_instance(world)
    widgets = world.widgets(limiter=ChatStartLimiter(StartRate(per_minute=1, burst=1), world.clock))
    widget = await widgets.create(SYSTEM, iid, "Support", await world.flow(iid), allowed_origins=(SITE,),
                                  secure=True)
    assert widget.security_key
    good = jwt.encode({"sub": widget.id, "iat": int(time.time()), "exp": int(time.time()) + 60}, widget.security_key)
    cases: list[tuple[tuple[str, str | None, str, dict[str, str], str | None], type[Exception], str]] = [
        (("5d1d4bd6-9e0b-4a51-a2bb-b5a2f3a6d0aa", SITE, "", {}, None), NotFound, "not found"),
        ((widget.id, "https://evil.example", "", {"": ""}, None), OriginNotAllowed, "evil.example"),
        ((widget.id, None, "Jane", {}, good), OriginNotAllowed, "no Origin"),
        ((widget.id, "null", "Jane", {}, good), OriginNotAllowed, "(null)"),
        ((widget.id, SITE, "", {}, None), WidgetTokenInvalid, "none was sent"),
        ((widget.id, SITE, "", {}, good + "x"), WidgetTokenInvalid, "not signed with this widget's key"),
        ((widget.id, SITE, " ", {"": ""}, good), InvalidParameter, "Enter your name"),
        ((widget.id, SITE, "Jane", {"": "x"}, good), InvalidParameter, "needs a name"),
    ]
    for args, error, message in cases:
        with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
            await widgets.start(*args, client_address="203.0.113.5")
    assert await world.queued(iid) == []
    # None of the refusals used the address's one chat.
    await widgets.start(widget.id, SITE, "Jane", {}, good, "203.0.113.5")
    with pytest.raises(ChatStartsThrottled, match="Try again in 60 seconds") as refused:
        await widgets.start(widget.id, SITE, "Jane", {}, good, "203.0.113.5")
    assert refused.value.retry_after == 60
    assert len(await world.queued(iid)) == 1


async def test_token_attributes_win_over_the_browsers(world: World) -> None:
    iid = await new_instance(world)
    widgets = world.widgets()
    widget = await widgets.create(SYSTEM, iid, "Support", await world.flow(iid), secure=True)
    now = int(time.time())
    token = jwt.encode({"sub": widget.id, "iat": now, "exp": now + 300,
                        "attributes": {"customerId": "c-42", "tier": "gold"}}, widget.security_key or "")
    await widgets.start(widget.id, BASE, "Jane", {"tier": "platinum", "page": "/"}, token, "198.51.100.1")
    [contact] = await world.queued(iid)
    assert contact.attributes == {"tier": "gold", "page": "/", "customerId": "c-42"}
    await widgets.rotate_key(SYSTEM, widget.id)
    with pytest.raises(WidgetTokenInvalid, match="not signed with this widget's key"):
        await widgets.start(widget.id, BASE, "Jane", {}, token, "198.51.100.1")


async def test_a_widget_whose_flow_was_deleted_says_so(world: World) -> None:
    iid = await new_instance(world)
    flow = await world.flow(iid)
    widgets = world.widgets()
    widget = await widgets.create(SYSTEM, iid, "Support", flow)
    async with world.storage.transaction() as uow:
        resource = await uow.resources.find(ContactFlow, iid, flow)
        assert resource is not None
        await uow.resources.delete(resource)
    with pytest.raises(InvalidRequest, match="cannot start chats now"):
        await widgets.start(widget.id, BASE, "Jane", {}, None, "198.51.100.1")


# the rate of chat starts ------------------------------------------------------------------------------------------


def test_the_rate_allows_bursts_then_one_every_twelve_seconds() -> None:
    clock = Clock()
    limiter = ChatStartLimiter(StartRate(), clock)  # 5 a minute, bursts of 10
    for _ in range(10):
        limiter.take("192.0.2.1")
    with pytest.raises(ChatStartsThrottled) as refused:
        limiter.take("192.0.2.1")
    assert refused.value.retry_after == 12
    limiter.take("192.0.2.2")  # another address has its own bucket
    clock.now += 12
    limiter.take("192.0.2.1")
    with pytest.raises(ChatStartsThrottled):
        limiter.take("192.0.2.1")
    # IPv6 addresses count by their /64.
    for _ in range(10):
        limiter.take("2001:db8:1:2::1")
    with pytest.raises(ChatStartsThrottled):
        limiter.take("2001:db8:1:2:ffff::9")


def test_the_rate_follows_the_servers_settings() -> None:
    assert configured_limiter(False, {}) is None
    default = configured_limiter(True, {})
    assert default is not None and default.rate == StartRate()
    custom = configured_limiter(True, {"StartWidgetChat": (1.0, 3)})
    assert custom is not None and (custom.rate.per_minute, custom.rate.burst) == (60.0, 3)


def test_the_limiter_forgets_the_oldest_addresses() -> None:
    limiter = ChatStartLimiter(StartRate(per_minute=1, burst=1, max_keys=2), Clock())
    limiter.take("192.0.2.1")
    limiter.take("192.0.2.2")
    limiter.take("192.0.2.3")  # 192.0.2.1 is forgotten: it starts with a full bucket again
    limiter.take("192.0.2.1")


# the test chat page ----------------------------------------------------------------------------------------------


async def test_test_chats_in_demo_mode_are_open_to_anyone(world: World) -> None:
    demo = await ensure_demo(world.storage, world.instances, world.directory, QuickConnectService(world.storage),
                             world.widgets())
    other = await new_instance(world, "another")
    widgets = world.widgets(demo=True)
    flow = await world.flow(other)
    started = await widgets.start_test_chat(None, BASE, other, flow, "Jane", {"a": "b"}, "192.0.2.7")
    [contact] = await world.queued(other)
    assert contact.id == started.contact_id and contact.attributes == {"a": "b"}
    options = await widgets.test_chat_options(None)
    assert [o.alias for o in options] == ["demo", "another"]
    assert [(f.name, f.default) for f in options[0].flows] == [(SAMPLE_INBOUND_FLOW, True)]
    assert options[0].id == demo.instance.id
    for origin in ("https://evil.example", None):
        with pytest.raises(OriginNotAllowed):
            await widgets.start_test_chat(None, origin, other, flow, "Jane", {}, "192.0.2.7")
    with pytest.raises(OriginNotAllowed):
        await widgets.test_chat_options(None, "https://evil.example")
    with pytest.raises(NotFound):
        await widgets.start_test_chat(None, BASE, "nope\x00", flow, "Jane", {}, "192.0.2.7")
    assert len(await world.queued(other)) == 1


async def test_test_chats_need_a_signed_in_user_of_the_instance(world: World) -> None:
    demo = await ensure_demo(world.storage, world.instances, world.directory, QuickConnectService(world.storage))
    other = await new_instance(world, "another")
    widgets = world.widgets(demo=False)
    flow = await world.flow(demo.instance.id)
    with pytest.raises(SignInRequired, match="Sign in"):
        await widgets.start_test_chat(None, BASE, demo.instance.id, flow, "Jane", {}, "192.0.2.7")
    with pytest.raises(SignInRequired):
        await widgets.start_test_chat("forged-cookie", BASE, demo.instance.id, flow, "Jane", {}, "192.0.2.7")
    with pytest.raises(SignInRequired):
        await widgets.test_chat_options(None)
    token, _user = await world.auth.login("demo", "agent1", DEMO_PASSWORD)
    with pytest.raises(AccessDenied, match="another instance"):
        await widgets.start_test_chat(token, BASE, other, await world.flow(other), "Jane", {}, "192.0.2.7")
    await widgets.start_test_chat(token, BASE, demo.instance.id, flow, "Jane", {}, "192.0.2.7")
    assert len(await world.queued(demo.instance.id)) == 1 and await world.queued(other) == []
    assert [o.alias for o in await widgets.test_chat_options(token)] == ["demo"]
    await world.auth.logout(token)
    with pytest.raises(SignInRequired):
        await widgets.start_test_chat(token, BASE, demo.instance.id, flow, "Jane", {}, "192.0.2.7")


# the demo widget ---------------------------------------------------------------------------------------------------


async def test_the_demo_widget_is_created_once_and_kept_as_changed(world: World) -> None:
    quick = QuickConnectService(world.storage)
    widgets = world.widgets()
    first = await ensure_demo(world.storage, world.instances, world.directory, quick, widgets)
    assert first.widget_id is not None
    widget = await widgets.get(first.widget_id)
    assert widget.name == DEMO_WIDGET_NAME and widget.security_key is None
    assert widget.contact_flow_id == await world.flow(first.instance.id)
    assert widget.allowed_origins == (BASE, "http://localhost:8800", "http://localhost:8000")
    await widgets.update(SYSTEM, widget.id, WidgetChanges(title="Demo chat"))
    again = await ensure_demo(world.storage, world.instances, world.directory, quick, widgets)
    assert again.widget_id == widget.id
    assert (await widgets.get(widget.id)).title == "Demo chat"
    assert len(await widgets.list_widgets(SYSTEM, first.instance.id)) == 1
