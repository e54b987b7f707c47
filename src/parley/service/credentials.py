"""The one credential resolver: every bearer credential Parley issues becomes its holder here, and only here.

Participant side (the Participant Service, its websocket, the group commit): a participant token, a connection
token or a websocket ticket becomes a :class:`Caller` (the participant and their chat), and any bad, expired or
spent one is refused with the same :data:`DENIED`; an attachment URL's ticket becomes its attachment. Agent side
(the login pages, the CTI API, the agent socket, the console): a sign-in cookie, a CTI access token or an
agent-socket ticket becomes its live :class:`~parley.domain.agents.AgentSession`, or None. Tokens are looked up
by their hash only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parley.domain.agents import AgentSession
from parley.domain.clock import utcnow
from parley.domain.contact import Participant
from parley.domain.errors import AccessDenied
from parley.domain.ids import hash_token
from parley.domain.transcript import Chat, Connection, StoredAttachment
from parley.service.repositories import ConnectionHolder, UnitOfWork

# The one answer for any bad, expired or spent token, and for a sender whose chat or seat is gone.
DENIED = "Access denied: the token is not valid, has expired, or its participant has left the chat."
GONE = "The chat has ended or you have left it; it no longer accepts messages or events."

# The one answer for a bad or expired attachment upload / download URL.
URL_DENIED = "The URL is not valid or has expired; ask for a new one."

# Participant-side credential kinds: the participant token (CreateParticipant, StartChatContact), and what
# CreateParticipantConnection issues: a connection token and a websocket ticket.
PARTICIPANT = "participant"
CONNECTION = "conn"
WEBSOCKET = "ws"
# Attachment URLs' tickets (their ``participant_id`` is the attachment's id).
UPLOAD = "upload"
DOWNLOAD = "download"
# Agent-side session kinds: the sign-in cookie, a CTI access token (issued by a cookie, revoked with it) and
# an agent-socket ticket.
COOKIE = "cookie"
ACCESS = "access"
AGENT_SOCKET = "ws"
# Length of ``hash_token`` output (hex SHA-256): the cookie's key embedded in an access token.
HASH_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Caller:
    """A participant resolved from a bearer token, with their chat."""

    participant: Participant
    chat: Chat


def usable(connection: Connection, kind: str, now: datetime) -> bool:
    """Whether a stored connection credential may be used as ``kind`` at ``now``."""
    return connection.kind == kind and connection.expires > now


async def participant_caller(uow: UnitOfWork, token: str | None, kind: str, *, lock: bool = False) -> Caller:
    """The holder of a participant token, connection token or websocket ticket; :class:`AccessDenied` with
    :data:`DENIED` for anything else.

    ``lock`` takes the chat's lock (ending a chat and appending items take it too), so what the caller then reads
    of the chat and the participant stays true until the unit of work ends: no message lands after
    ``chat.ended``, no bot joins an ended chat, and concurrent retries of one ClientToken see each other.
    """
    if not token:
        raise AccessDenied(DENIED)
    now = utcnow()
    digest = hash_token(token)
    if kind == PARTICIPANT:
        participant = await uow.participants.find_by_token(digest)
        if participant is None or participant.token_expiry <= now:
            raise AccessDenied(DENIED)
    else:
        found = await uow.connections.find_with_participant(digest)
        if found is None or not usable(found[0], kind, now):
            raise AccessDenied(DENIED)
        participant = found[1]
    if lock:
        locked = await uow.chats.lock_with(participant)
        if locked is None:
            raise AccessDenied(DENIED)
        return Caller(*locked)
    chat = await uow.chats.find(participant.chat_id)
    if chat is None:
        raise AccessDenied(DENIED)
    return Caller(participant, chat)


def sender(holder: ConnectionHolder | None, now: datetime) -> Caller | AccessDenied:
    """The group commit's check of one SendMessage / SendEvent connection token (its holder read with the chat
    locked): the caller, or the refusal (:data:`DENIED`, or :data:`GONE` for a left seat or an ended chat)."""
    if holder is None or not usable(holder.connection, CONNECTION, now) or holder.chat is None:
        return AccessDenied(DENIED)
    if not holder.participant.active or holder.chat.ended:
        return AccessDenied(GONE)
    return Caller(holder.participant, holder.chat)


async def attachment_of_ticket(uow: UnitOfWork, attachment_id: str, ticket: str | None,
                                kind: str) -> StoredAttachment:
    """The attachment an upload or download URL's ticket opens; :class:`AccessDenied` (:data:`URL_DENIED`) for
    any other ticket, another attachment's, or an expired one."""
    found = await uow.connections.find(hash_token(ticket)) if ticket else None
    if found is None or found.participant_id != attachment_id or not usable(found, kind, utcnow()):
        raise AccessDenied(URL_DENIED)
    attachment = await uow.attachments.find(attachment_id)
    if attachment is None:
        raise AccessDenied(URL_DENIED)
    return attachment


async def instance_of_token(uow: UnitOfWork, token_hash: str) -> str | None:
    """The instance a participant or connection token belongs to, expired or not (rate limits are per
    instance; whether the token may be used is decided by :func:`participant_caller`)."""
    participant = await uow.participants.find_by_token(token_hash)
    if participant is None:
        found = await uow.connections.find_with_participant(token_hash)
        if found is not None and found[0].kind == CONNECTION:
            participant = found[1]
    chat = await uow.chats.find(participant.chat_id) if participant else None
    return chat.instance_id if chat is not None else None


async def live_session(uow: UnitOfWork, token_hash: str, kind: str) -> AgentSession | None:
    """The live agent session of kind ``kind`` stored under ``token_hash``, or None."""
    session = await uow.sessions.find(token_hash)
    if session is None or session.kind != kind or session.expires <= utcnow():
        return None
    return session


async def access_session(uow: UnitOfWork, token: str) -> AgentSession | None:
    """A CTI access token's live session, or None; it dies with the sign-in cookie that issued it (the token
    starts with that cookie's hash)."""
    parent, dot, _secret = token.partition(".")
    if not dot or len(parent) != HASH_LENGTH:
        return None
    access = await live_session(uow, hash_token(token), ACCESS)
    if access is None or await live_session(uow, parent, COOKIE) is None:
        return None
    return access
