"""Use cases for chat widgets: manage them (create, change, rotate the security key, delete), and start chats
from browsers, through a widget or through the test chat page.

A chat started from a browser goes through the same use case as the Connect API's StartChatContact
(:meth:`parley.service.contacts.ContactService.start_chat`), with the instance and contact flow taken from the
widget, never from the browser. Every check runs before anything is written, so a refusal changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from parley.domain.agents import AgentSession
from parley.domain.audit import Subject
from parley.domain.callers import SYSTEM, Caller
from parley.domain.clock import utcnow
from parley.domain.contact import check_chat_duration, check_supported_content_types
from parley.domain.errors import AccessDenied, Duplicate, InvalidParameter, InvalidRequest, NotFound
from parley.domain.ids import looks_like_uuid, new_id, new_token
from parley.domain.instance import normalize_origin
from parley.domain.permissions import SETTINGS_EDIT, SETTINGS_VIEW
from parley.domain.resources import ContactFlow
from parley.domain.widget_tokens import check_widget_token
from parley.domain.widgets import (
    DEFAULT_ON_PRIMARY_COLOR,
    DEFAULT_PRIMARY_COLOR,
    DEFAULT_TITLE,
    SECURITY_KEY_LENGTH,
    WIDGET_CONTENT_TYPES,
    OriginNotAllowed,
    Widget,
    check_customer_attributes,
    check_display_name,
    check_name,
    validated,
)
from parley.service.access import require
from parley.service.audit import record_txn
from parley.service.auth import AuthService
from parley.service.chat_starts import ChatStartLimiter
from parley.service.contacts import ChatRequest, ContactService, StartedChat
from parley.service.demo import DEMO_ALIAS, DEMO_WIDGET_NAME
from parley.service.instances import SAMPLE_INBOUND_FLOW, idna_host
from parley.service.lookups import get_instance, get_resource, instance_id_of
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork

# The widths of the id columns: a longer id (or one holding NUL, which PostgreSQL refuses) cannot match a row.
MAX_INSTANCE_REF = 64
MAX_FLOW_REF = 500
# StartChatContact's limit on InitialMessage.Content.
MAX_INITIAL_MESSAGE_BYTES = 16384
# Instances the test chat page offers in demo mode (the demo instance first).
MAX_TEST_CHAT_INSTANCES = 50
# Bytes in a security key: 33 random bytes are 44 url-safe base64 characters.
_KEY_BYTES = SECURITY_KEY_LENGTH * 3 // 4


class SignInRequired(AccessDenied):
    """The test chat page is for signed-in users of the instance (or anyone, in demo mode)."""

    def __init__(self) -> None:
        super().__init__("Sign in to Parley (the agent sign-in) to start test chats on this server.")


@dataclass(frozen=True)
class ChatOptions:
    """What a browser may ask for beyond a name and attributes (amazon-connect-chat-interface sends these)."""

    initial_message: str | None = None
    supported_content_types: tuple[str, ...] | None = None
    chat_duration_minutes: int | None = None


@dataclass(frozen=True)
class WidgetChanges:
    """Settings to change; None leaves one as it is. An empty ``greeting`` removes it; ``secure`` adds a security
    key (True, when the widget has none) or removes it (False)."""

    name: str | None = None
    contact_flow_id: str | None = None
    allowed_origins: tuple[str, ...] | None = None
    title: str | None = None
    greeting: str | None = None
    primary_color: str | None = None
    on_primary_color: str | None = None
    secure: bool | None = None


@dataclass(frozen=True)
class FlowChoice:
    id: str
    name: str
    default: bool


@dataclass(frozen=True)
class InstanceChoice:
    """An instance the test chat page may start chats on, with its contact flows."""

    id: str
    alias: str
    flows: tuple[FlowChoice, ...]


def _subject(widget: Widget) -> Subject:
    """The widget as the audit trail names it."""
    return Subject(widget.instance_id, "widget", widget.id, widget.name)


def origin_of(base_url: str) -> str:
    """The origin of Parley's public base URL (``https://chat.example.com/parley`` -> ``https://chat.example.com``)."""
    parts = urlsplit(base_url)
    return normalize_origin(f"{parts.scheme}://{parts.netloc}", idna_host)


def _usable(ref: str, limit: int) -> bool:
    return 0 < len(ref) <= limit and "\x00" not in ref


def _flow_id_of(value: str) -> str:
    """A contact flow id, or the id at the end of a contact flow ARN."""
    return value.rsplit("contact-flow/", 1)[1] if value.startswith("arn:") and "contact-flow/" in value else value


class WidgetService:
    def __init__(self, storage: Storage, contacts: ContactService, auth: AuthService, *, base_url: str,
                 demo: bool = False, limiter: ChatStartLimiter | None = None) -> None:
        self.storage = storage
        self.contacts = contacts
        self.auth = auth
        self.demo = demo
        self.limiter = limiter
        # The widget's own chat window and the test chat page run here: every widget allows it.
        self.public_origin = origin_of(base_url)

    # managing widgets (a member of the instance needs its chat settings permissions, as for approved origins) ---
    async def create(self, caller: Caller, instance_id: str, name: str, contact_flow_id: str, *,
                     allowed_origins: tuple[str, ...] = (), title: str = DEFAULT_TITLE, greeting: str | None = None,
                     primary_color: str = DEFAULT_PRIMARY_COLOR, on_primary_color: str = DEFAULT_ON_PRIMARY_COLOR,
                     secure: bool = False) -> Widget:
        """A new widget; with ``secure``, it gets a security key (shown in the returned widget)."""
        require(caller, instance_id, SETTINGS_EDIT, "create chat widgets")
        now = utcnow()
        draft = validated(Widget(
            id=new_id(), instance_id=instance_id, name=name, contact_flow_id=_flow_id_of(contact_flow_id),
            created_time=now, last_modified_time=now, allowed_origins=tuple(allowed_origins), title=title,
            greeting=greeting, primary_color=primary_color, on_primary_color=on_primary_color,
            security_key=new_token(_KEY_BYTES) if secure else None,
        ), idna_host)
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            widget = replace(draft, instance_id=instance.id)
            await self._check_flow(uow, widget)
            if await uow.widgets.find_by_name(instance.id, widget.name) is not None:
                raise Duplicate(f"The instance already has a widget named '{widget.name}'.")
            await uow.widgets.add(widget)
            await record_txn(uow, caller, "CreateWidget", _subject(widget))
        return widget

    async def update(self, caller: Caller, widget_id: str, changes: WidgetChanges) -> Widget:
        async with self.storage.transaction() as uow:
            current = await self._need(uow, widget_id)
            require(caller, current.instance_id, SETTINGS_EDIT, "change chat widgets")
            key = current.security_key
            if changes.secure is False:
                key = None
            elif changes.secure and key is None:
                key = new_token(_KEY_BYTES)
            greeting = current.greeting if changes.greeting is None else changes.greeting
            widget = validated(replace(
                current,
                name=current.name if changes.name is None else changes.name,
                contact_flow_id=(current.contact_flow_id if changes.contact_flow_id is None
                                 else _flow_id_of(changes.contact_flow_id)),
                allowed_origins=current.allowed_origins if changes.allowed_origins is None else changes.allowed_origins,
                title=current.title if changes.title is None else changes.title,
                greeting=greeting,
                primary_color=current.primary_color if changes.primary_color is None else changes.primary_color,
                on_primary_color=(current.on_primary_color if changes.on_primary_color is None
                                  else changes.on_primary_color),
                security_key=key, last_modified_time=utcnow(),
            ), idna_host)
            if widget.contact_flow_id != current.contact_flow_id:
                await self._check_flow(uow, widget)
            if widget.name != current.name:
                other = await uow.widgets.find_by_name(widget.instance_id, widget.name)
                if other is not None and other.id != widget.id:
                    raise Duplicate(f"The instance already has a widget named '{widget.name}'.")
            await uow.widgets.update(widget)
            await record_txn(uow, caller, "UpdateWidget", _subject(widget))
        return widget

    async def rotate_key(self, caller: Caller, widget_id: str) -> Widget:
        """Give the widget a new security key (tokens signed with the old one stop working at once)."""
        async with self.storage.transaction() as uow:
            current = await self._need(uow, widget_id)
            require(caller, current.instance_id, SETTINGS_EDIT, "change chat widgets")
            widget = replace(current, security_key=new_token(_KEY_BYTES), last_modified_time=utcnow())
            await uow.widgets.update(widget)
            await record_txn(uow, caller, "RotateWidgetKey", _subject(widget))
        return widget

    async def describe(self, caller: Caller, widget_id: str) -> Widget:
        """The widget with all its settings, its security key included, for those who manage it."""
        widget = await self.get(widget_id)
        require(caller, widget.instance_id, SETTINGS_VIEW, "view chat widgets")
        return widget

    async def get(self, widget_id: str) -> Widget:
        """The widget, for Parley's own edges that show it or check requests against it (its chat window, the start
        endpoints); NotFound. Never hand its security key to a browser."""
        async with self.storage.transaction() as uow:
            return await self._need(uow, widget_id)

    async def find_by_name(self, caller: Caller, instance_id: str, name: str) -> Widget | None:
        require(caller, instance_id, SETTINGS_VIEW, "view chat widgets")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            return await uow.widgets.find_by_name(instance.id, check_name(name))

    async def list_widgets(self, caller: Caller, instance_id: str) -> list[Widget]:
        require(caller, instance_id, SETTINGS_VIEW, "view chat widgets")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            return await uow.widgets.all(instance.id)

    async def delete(self, caller: Caller, widget_id: str) -> None:
        async with self.storage.transaction() as uow:
            widget = await self._need(uow, widget_id)
            require(caller, widget.instance_id, SETTINGS_EDIT, "delete chat widgets")
            await uow.widgets.delete(widget.id)
            await record_txn(uow, caller, "DeleteWidget", _subject(widget))

    async def _need(self, uow: UnitOfWork, widget_id: str) -> Widget:
        found = await uow.widgets.find(widget_id) if looks_like_uuid(widget_id) else None
        if found is None:
            raise NotFound(f"Widget {widget_id[:100]} was not found.", resource_type="WIDGET",
                           resource_id=widget_id[:100])
        return found

    async def _check_flow(self, uow: UnitOfWork, widget: Widget) -> None:
        if not _usable(widget.contact_flow_id, MAX_FLOW_REF):
            raise InvalidParameter("A widget needs the id of the contact flow its chats start in.")
        flow = await get_resource(uow, ContactFlow, widget.instance_id, widget.contact_flow_id)
        if flow.flow_type != "CONTACT_FLOW":
            raise InvalidParameter(
                f"Flow '{flow.name}' is of type {flow.flow_type}; a widget's chats start in a CONTACT_FLOW flow."
            )

    # starting chats from browsers ------------------------------------------------------------------------
    def origin_allowed(self, widget: Widget, origin: str) -> bool:
        """Whether a page of ``origin`` (an ``Origin`` header) may use the widget."""
        normalized = _browser_origin(origin)
        return normalized is not None and (normalized == self.public_origin or normalized in widget.allowed_origins)

    async def for_origin(self, widget_id: str, origin: str | None, *, same_origin: bool = False) -> Widget:
        """The widget, when a page of ``origin`` (its ``Origin`` header) may use it; NotFound, else OriginNotAllowed.
        ``same_origin``: a request without Origin counts as Parley's own page (browsers send none on a same-origin
        GET); otherwise a missing Origin is refused."""
        widget = await self.get(widget_id)
        if origin is None and same_origin:
            return widget
        if not origin or not self.origin_allowed(widget, origin):
            raise OriginNotAllowed(origin)
        return widget

    async def start(self, widget_id: str, origin: str | None, display_name: str, attributes: dict[str, str],
                    token: str | None, client_address: str, options: ChatOptions | None = None) -> StartedChat:
        """Start a chat for a page of ``origin`` through the widget: the widget exists, the origin is allowed, the
        token (when the widget has a security key) is valid and its attributes win over the browser's, the name and
        attributes are valid, and the address has not started too many chats."""
        widget = await self.for_origin(widget_id, origin)
        merged = dict(attributes)
        if widget.security_key is not None:
            merged.update(check_widget_token(token, widget.id, widget.security_key, utcnow()))
        request = self._request(widget.instance_id, widget.contact_flow_id, display_name, merged, options)
        self._take(client_address)
        try:
            return await self.contacts.start_chat(SYSTEM, request)
        except NotFound as exc:
            raise InvalidRequest(
                f"This widget cannot start chats now: {exc.message} Its administrator must choose another contact flow."
            ) from exc

    async def start_test_chat(self, session_token: str | None, origin: str | None, instance_id: str,
                              contact_flow_id: str, display_name: str, attributes: dict[str, str],
                              client_address: str) -> StartedChat:
        """Start a chat from the test chat page (served by Parley itself): anyone in demo mode, otherwise a user
        signed in to that instance."""
        if not origin or _browser_origin(origin) != self.public_origin:
            raise OriginNotAllowed(origin)
        session = await self._session(session_token)
        if not self.demo and session is None:
            raise SignInRequired()
        iid = instance_id_of(instance_id)
        if not self.demo and session is not None and iid != session.instance_id:
            raise AccessDenied("You are signed in to another instance; test chats start on your own instance.")
        if not _usable(iid, MAX_INSTANCE_REF):
            raise NotFound(f"Instance {iid[:100]} was not found.", resource_type="INSTANCE")
        flow_id = _flow_id_of(contact_flow_id)
        if not _usable(flow_id, MAX_FLOW_REF):
            raise NotFound(f"Contact flow {flow_id[:100]} was not found.", resource_type="CONTACT_FLOW")
        request = self._request(iid, flow_id, display_name, attributes, None)
        async with self.storage.transaction() as uow:  # refused before the address's rate is counted
            await get_resource(uow, ContactFlow, (await get_instance(uow, iid)).id, flow_id)
        self._take(client_address)
        # Parley's own use case, checked above: StartChatContact itself is not a security profile's to grant.
        return await self.contacts.start_chat(SYSTEM, request)

    async def test_chat_options(self, session_token: str | None, origin: str | None = None) -> list[InstanceChoice]:
        """The instances (with their contact flows, the default marked) the caller may start test chats on; for
        Parley's own pages only (``origin`` None: a same-origin GET)."""
        if origin is not None and _browser_origin(origin) != self.public_origin:
            raise OriginNotAllowed(origin)
        session = await self._session(session_token)
        if not self.demo and session is None:
            raise SignInRequired()
        async with self.storage.transaction() as uow:
            if self.demo:
                instances = await uow.instances.list(None, MAX_TEST_CHAT_INSTANCES)
            else:
                assert session is not None
                instances = [i for i in [await uow.instances.find(session.instance_id)] if i is not None]
            choices = []
            for instance in sorted(instances, key=lambda i: (i.alias != DEMO_ALIAS, i.alias)):
                flows = [f for f in await uow.resources.all(ContactFlow, instance.id) if f.flow_type == "CONTACT_FLOW"]
                demo_widget = await uow.widgets.find_by_name(instance.id, DEMO_WIDGET_NAME)
                default = next((f.id for f in flows if demo_widget and f.id == demo_widget.contact_flow_id), None)
                default = default or next((f.id for f in flows if f.name == SAMPLE_INBOUND_FLOW),
                                          flows[0].id if flows else None)
                choices.append(InstanceChoice(instance.id, instance.alias, tuple(
                    FlowChoice(f.id, f.name or "", f.id == default) for f in flows)))
        return choices

    def _request(self, instance_id: str, flow_id: str, display_name: str, attributes: dict[str, str],
                 options: ChatOptions | None) -> ChatRequest:
        """The StartChatContact request, every field checked (so a refusal comes before the rate is counted)."""
        options = options or ChatOptions()
        initial = options.initial_message if options.initial_message and options.initial_message.strip() else None
        types = list(check_supported_content_types(list(options.supported_content_types or WIDGET_CONTENT_TYPES)))
        if initial is not None and len(initial.encode()) > MAX_INITIAL_MESSAGE_BYTES:
            raise InvalidParameter(f"The first message is larger than {MAX_INITIAL_MESSAGE_BYTES:,} bytes.")
        return ChatRequest(
            instance_id=instance_id, contact_flow_id=flow_id, display_name=check_display_name(display_name),
            attributes=check_customer_attributes(attributes), initial_message_type="text/plain" if initial else None,
            initial_message=initial, chat_duration_minutes=check_chat_duration(options.chat_duration_minutes),
            supported_content_types=types,
        )

    def _take(self, client_address: str) -> None:
        if self.limiter is not None:
            self.limiter.take(client_address)

    async def _session(self, token: str | None) -> AgentSession | None:
        return await self.auth.session(token) if token else None


def _browser_origin(origin: str) -> str | None:
    """An ``Origin`` header as stored origins are written, or None when it is no web origin (``null``)."""
    try:
        return normalize_origin(origin)
    except InvalidParameter:
        return None
