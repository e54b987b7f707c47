"""The ``--demo`` instance: users, quick connects and origins ready for a custom CCP or a widget."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from parley.domain.callers import SYSTEM
from parley.domain.errors import Duplicate
from parley.domain.instance import Instance
from parley.domain.resources import (
    ContactFlow,
    IdentityInfo,
    PhoneConfig,
    Queue,
    QuickConnect,
    RoutingProfile,
    SecurityProfile,
)
from parley.service.canned import CannedResponseService, add_demo_responses
from parley.service.directory import DirectoryService
from parley.service.instances import (
    AGENT_TRANSFER_FLOW,
    BASIC_QUEUE,
    BASIC_ROUTING_PROFILE,
    QUEUE_TRANSFER_FLOW,
    SAMPLE_INBOUND_FLOW,
    InstanceService,
)
from parley.service.ports import Storage
from parley.service.quick_connects import QuickConnectConfig, QuickConnectService

if TYPE_CHECKING:  # parley.service.widgets reads this module's names
    from parley.domain.widgets import Widget
    from parley.service.widgets import WidgetService

DEMO_ALIAS = "demo"
DEMO_PASSWORD = "Parley-demo-1"
DEMO_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")
# The demo widget (besides Parley's own origin): pages served on the usual local development ports.
DEMO_WIDGET_NAME = "Demo widget"
DEMO_WIDGET_ORIGINS = ("http://localhost:8800", "http://127.0.0.1:8800", "http://localhost:8000")
# Set on the demo instance once its setup has finished.
COMPLETE_TAG = "parley:demo"
# username -> (security profile, first name)
DEMO_USERS: dict[str, tuple[str, str]] = {
    "admin": ("Admin", "Admin"),
    **{f"agent{n}": ("Agent", f"Agent{n}") for n in range(1, 6)},
    "supervisor": ("CallCenterManager", "Supervisor"),
}


@dataclass(frozen=True)
class Demo:
    instance: Instance
    created: bool
    # The "Demo widget" (parley.service.widgets), when ensure_demo was given the widget service.
    widget_id: str | None = None


async def ensure_demo(
    storage: Storage, instances: InstanceService, directory: DirectoryService, quick_connects: QuickConnectService,
    widgets: WidgetService | None = None,
) -> Demo:
    """The demo instance (see :func:`_ensure_instance`) and, given ``widgets``, its demo widget."""
    demo = await _ensure_instance(storage, instances, directory, quick_connects)
    if widgets is None:
        return demo
    widget = await ensure_demo_widget(widgets, demo.instance)
    return replace(demo, widget_id=widget.id if widget is not None else None)


async def ensure_demo_widget(widgets: WidgetService, instance: Instance) -> Widget | None:
    """The demo widget on the sample inbound flow, created unless it exists (then left as the user changed it);
    None when the user removed every contact flow it could use."""
    found = await widgets.find_by_name(SYSTEM, instance.id, DEMO_WIDGET_NAME)
    if found is not None:
        return found
    async with widgets.storage.transaction() as uow:
        flows = [f for f in await uow.resources.all(ContactFlow, instance.id) if f.flow_type == "CONTACT_FLOW"]
    flow = next((f for f in flows if f.name == SAMPLE_INBOUND_FLOW), flows[0] if flows else None)
    if flow is None:
        return None
    try:
        return await widgets.create(SYSTEM, instance.id, DEMO_WIDGET_NAME, flow.id,
                                    allowed_origins=(widgets.public_origin, *DEMO_WIDGET_ORIGINS))
    except Duplicate:  # another node created it meanwhile
        again = await widgets.find_by_name(SYSTEM, instance.id, DEMO_WIDGET_NAME)
        assert again is not None
        return again


async def _ensure_instance(
    storage: Storage, instances: InstanceService, directory: DirectoryService, quick_connects: QuickConnectService
) -> Demo:
    """Create the demo instance unless it exists already (then leave it as the user changed it).

    Every step looks before it creates, and the instance is tagged complete only at the end, so a first start
    interrupted half-way finishes the setup on the next start instead of leaving a partial demo.
    """
    existing = await instances.find_instance_by_alias(DEMO_ALIAS)
    if existing is not None and existing.tags.get(COMPLETE_TAG) == "true":
        return Demo(existing, created=False)
    instance = existing or await instances.create_instance(SYSTEM, DEMO_ALIAS, "CONNECT_MANAGED", True, True)
    iid = instance.id
    async with storage.transaction() as uow:
        profiles = {p.name: p.id for p in await uow.resources.all(SecurityProfile, iid)}
        routing = await uow.resources.find_by_name(RoutingProfile, iid, BASIC_ROUTING_PROFILE)
        queue = await uow.resources.find_by_name(Queue, iid, BASIC_QUEUE)
        agent_flow = await uow.resources.find_by_name(ContactFlow, iid, AGENT_TRANSFER_FLOW)
        queue_flow = await uow.resources.find_by_name(ContactFlow, iid, QUEUE_TRANSFER_FLOW)
    assert routing and queue and agent_flow and queue_flow, "built-in resources missing"
    users = {}
    for username, (profile, first) in DEMO_USERS.items():
        users[username] = await directory.find_user_by_username(iid, username) or await directory.create_user(
            SYSTEM, iid, username, DEMO_PASSWORD, IdentityInfo(first_name=first, last_name="Demo"), PhoneConfig(),
            [profiles[profile]], routing.id,
        )
    wanted = [
        (f"Transfer-to-agent-{n}", f"Invite or transfer to Agent{n}",
         QuickConnectConfig("USER", user_id=users[f"agent{n}"].id, contact_flow_id=agent_flow.id))
        for n in range(1, 6)
    ] + [("Transfer-to-BasicQueue", "Invite or transfer to the next available agent of BasicQueue",
          QuickConnectConfig("QUEUE", queue_id=queue.id, contact_flow_id=queue_flow.id))]
    qc_ids = []
    for name, description, config in wanted:
        async with storage.transaction() as uow:
            found = await uow.resources.find_by_name(QuickConnect, iid, name)
        qc_ids.append(found.id if found else (await quick_connects.create(SYSTEM, iid, name, description, config)).id)
    await quick_connects.associate_with_queue(SYSTEM, iid, queue.id, qc_ids)
    for origin in DEMO_ORIGINS:
        if origin not in (await instances.get_instance(SYSTEM, iid)).approved_origins:
            await instances.associate_origin(SYSTEM, iid, origin)
    await instances.set_attribute(SYSTEM, iid, "MULTI_PARTY_CHAT_CONFERENCE", "true")
    await instances.set_attribute(SYSTEM, iid, "ENHANCED_CHAT_MONITORING", "true")
    await add_demo_responses(CannedResponseService(storage), iid)
    instance = await instances.set_tag(SYSTEM, iid, COMPLETE_TAG, "true")
    return Demo(instance, created=existing is None)
