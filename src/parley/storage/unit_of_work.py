"""The SQL unit of work: one transaction on one connection, and a repository per aggregate over it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cached_property

from parley.storage.agent_repos import PresenceSql
from parley.storage.audit_repos import AuditSql
from parley.storage.auth_repos import SessionSql
from parley.storage.canned_repos import CannedSql
from parley.storage.chat_repos import AppendSql, AttachmentSql, ChatSql, ConnectionSql
from parley.storage.contact_repos import ContactSql, ParticipantSql
from parley.storage.decoded import Decoded
from parley.storage.repos import IdempotencySql, InstanceSql, ResourceSql
from parley.storage.statements import Statements
from parley.storage.widget_repos import WidgetSql


class SqlUnitOfWork:
    """Implements :class:`parley.service.repositories.UnitOfWork`; a repository is made when first used."""

    def __init__(self, conn: Statements, *, row_locks: bool, decoded: Decoded | None = None) -> None:
        self.conn = conn
        self.row_locks = row_locks
        self.decoded = decoded or Decoded(0)
        self.callbacks: list[Callable[[], Awaitable[None]]] = []

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self.callbacks.append(callback)

    @cached_property
    def instances(self) -> InstanceSql:
        return InstanceSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def resources(self) -> ResourceSql:
        return ResourceSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def contacts(self) -> ContactSql:
        return ContactSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def participants(self) -> ParticipantSql:
        return ParticipantSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def chats(self) -> ChatSql:
        return ChatSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def connections(self) -> ConnectionSql:
        return ConnectionSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def attachments(self) -> AttachmentSql:
        return AttachmentSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def idempotency(self) -> IdempotencySql:
        return IdempotencySql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def appends(self) -> AppendSql:
        return AppendSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def presences(self) -> PresenceSql:
        return PresenceSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def sessions(self) -> SessionSql:
        return SessionSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def widgets(self) -> WidgetSql:
        return WidgetSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def canned(self) -> CannedSql:
        return CannedSql(self.conn, self.row_locks, self.decoded)

    @cached_property
    def audit(self) -> AuditSql:
        return AuditSql(self.conn, self.row_locks, self.decoded)
