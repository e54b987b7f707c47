"""Fixtures of the fuzz suite: one ``parley serve --demo`` of its own (so its log holds only what the fuzzers
caused, checked for tracebacks at the end), the demo instance's real ids, signed raw requests, and the checks
every answer must pass: no 5xx, the service's own error shape, nothing changed by a refused request."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, event, settings

from tests.aws.chat_helpers import Chat, Party, new_chat, participant_client
from tests.aws.conftest import DemoIds, builtin_ids
from tests.conftest import REGION, Server, serving

# One profile for every fuzz test: the same examples on every run (derandomize, no example database), no
# per-example deadline (a shared 2-core machine is slow at times), and few enough examples that the whole suite
# stays within about a minute.
settings.register_profile(
    "parley-fuzz", derandomize=True, database=None, deadline=None, max_examples=12, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture, HealthCheck.large_base_example],
)
FUZZ = settings.get_profile("parley-fuzz")
# Statuses an answer may have at or above 500: 501 for operations Parley does not implement, 503 while the
# server is shedding load or draining (docs/security.md).
ALLOWED_5XX = {501: {"NotImplementedException"}, 503: {"ServiceUnavailableException", "ThrottlingException"}}

# What uvicorn's HTTP parser answers (and then closes) for a request that is not HTTP/1.1, such as a header value
# holding a NUL: the request never reaches a service, so it has no service's error shape.
HTTP_PARSER_REFUSAL = b"Invalid HTTP request received."


@dataclass
class LogWatch:
    """The fuzz server's log, with the stretches that known (routed, xfail) defects wrote excluded."""

    server: Server
    excused: list[tuple[int, int]] = field(default_factory=list)

    def size(self) -> int:
        return len(self.server.log())

    @contextmanager
    def excuse(self) -> Iterator[None]:
        """Log lines written inside this block do not count (the block reproduces a defect routed elsewhere)."""
        start = self.size()
        try:
            yield
        finally:
            self.excused.append((start, self.size()))

    def unexcused(self) -> str:
        text = self.server.log()
        kept, at = [], 0
        for start, end in sorted(self.excused):
            kept.append(text[at:start])
            at = max(at, end)
        kept.append(text[at:])
        return "".join(kept)


@pytest.fixture(scope="session")
def fuzz_server() -> Iterator[Server]:
    """The fuzz suite's own demo server; at the end of the session its log must hold no traceback.

    SQLite by default; ``PARLEY_FUZZ_STORAGE=postgresql`` runs it on a fresh PostgreSQL database instead (the
    storage where, for example, a NUL character in an id used to fail inside the driver).
    """
    with serving(["--demo"], postgres=os.environ.get("PARLEY_FUZZ_STORAGE") == "postgresql") as srv:
        yield srv


@pytest.fixture(scope="session", autouse=True)
def fuzz_log(fuzz_server: Server) -> Iterator[LogWatch]:
    watch = LogWatch(fuzz_server)
    yield watch
    text = watch.unexcused()
    found = [m.start() for m in re.finditer("Traceback", text)]
    shown = "\n----\n".join(text[max(0, i - 300): i + 3000] for i in found[:5])
    assert not found, f"the fuzz server logged {len(found)} tracebacks:\n{shown}"
    assert fuzz_server.process is not None and fuzz_server.process.poll() is None, "the fuzz server died"


@pytest.fixture(scope="session")
def fconnect(fuzz_server: Server) -> Any:
    return fuzz_server.connect()


@pytest.fixture(scope="session")
def fraw_connect(fuzz_server: Server) -> Any:
    return fuzz_server.connect(validate=False)


@pytest.fixture(scope="session")
def fparticipant(fuzz_server: Server) -> Any:
    return participant_client(fuzz_server.url)


@pytest.fixture(scope="session")
def fraw_participant(fuzz_server: Server) -> Any:
    return participant_client(fuzz_server.url, validate=False)


@pytest.fixture(scope="session")
def fdemo(fconnect: Any) -> DemoIds:
    instance_id = next(i["Id"] for i in fconnect.list_instances()["InstanceSummaryList"]
                       if i["InstanceAlias"] == "demo")
    return builtin_ids(fconnect, instance_id)


@pytest.fixture(scope="session")
def http(fuzz_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_server.url, timeout=30) as client:
        yield client


def sign(method: str, url: str, body: bytes, headers: Mapping[str, str] | None = None,
         service: str = "connect") -> dict[str, str]:
    """Headers of ``url`` signed with SigV4 by botocore (the demo key ``test``/``test``)."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials("test", "test"), service, REGION).add_auth(request)
    return dict(request.headers.items())


@dataclass(frozen=True)
class Reply:
    """An HTTP answer as the checks need it."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def of(cls, response: httpx.Response) -> Reply:
        return cls(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content)


def check_answer(reply: Reply, what: str, *, json_10: bool = False, url: str = "") -> None:
    """No 5xx (but 501/503 as documented); an error carries the service's shape: ``x-amzn-ErrorType`` and a
    JSON body with its Message (rest-json), or ``__type`` and ``message`` (JSON 1.0, the CTI API)."""
    if reply.status == 400 and reply.body == HTTP_PARSER_REFUSAL:
        event("refused by the HTTP parser")  # e.g. a NUL in a header value: no service ever saw the request
        return
    body = reply.body.decode("utf-8", "replace")
    where = f"{what} -> {reply.status} {dict(reply.headers)} {body[:600]}"
    if reply.status < 400:
        return
    try:
        import json

        parsed = json.loads(body)
    except ValueError:
        parsed = None
    assert isinstance(parsed, dict), f"the error body is not a JSON object: {where}"
    if json_10:
        code = parsed.get("__type")
        assert isinstance(code, str) and code, f"no __type: {where}"
        message = parsed.get("message")
    else:
        code = reply.headers.get("x-amzn-errortype")
        assert code, f"no x-amzn-ErrorType: {where}"
        message = parsed.get("Message", parsed.get("message"))
    assert isinstance(message, str) and message, f"no Message: {where}"
    if reply.status >= 500:
        allowed = ALLOWED_5XX.get(reply.status, set())
        assert code.split(":")[0] in allowed, f"a server error: {where}"


class StateCheck:
    """Snapshots state before a request and compares after a refused one; a success refreshes the snapshot."""

    def __init__(self, read: Callable[[], Any]) -> None:
        self.read = read
        self.before: Any = None

    def prime(self) -> None:
        if self.before is None:
            self.before = self.read()

    def after(self, refused: bool, what: str) -> None:
        after = self.read()
        if refused:
            assert after == self.before, f"a refused request changed state: {what}\nbefore: {self.before}\n" \
                                         f"after:  {after}"
        self.before = after


@dataclass
class ChatPool:
    """The chat the participant fuzzers send into: its customer is fuzzed, its CUSTOM_BOT only watches (its
    transcript is the snapshot); a second chat's customer lends a token of the wrong chat. A new chat replaces
    one that ended."""

    connect: Any
    client: Any
    demo: DemoIds
    chat: Chat | None = None
    other: Chat | None = None
    ended: int = 0

    def current(self) -> Chat:
        if self.chat is None:
            self.chat = new_chat(self.connect, self.client, self.demo)
        return self.chat

    def foreign(self) -> Party:
        if self.other is None:
            self.other = new_chat(self.connect, self.client, self.demo, bot=False)
        return self.other.customer

    def renew(self) -> None:
        self.chat = None
        self.other = None
        self.ended += 1

    def transcript(self) -> list[dict[str, Any]]:
        observer = self.current().bot
        assert observer is not None
        page = observer.transcript(MaxResults=100, ScanDirection="BACKWARD", SortOrder="ASCENDING")
        return list(page["Transcript"])


@pytest.fixture(scope="session")
def chat_pool(fconnect: Any, fparticipant: Any, fdemo: DemoIds) -> ChatPool:
    return ChatPool(fconnect, fparticipant, fdemo)


@pytest.fixture(scope="session")
def fuzz_user(fconnect: Any, fdemo: DemoIds) -> str:
    """A user only the fuzzers touch (the demo agents stay as they are)."""
    created = fconnect.create_user(
        InstanceId=fdemo.instance_id, Username=f"fuzz-{uuid.uuid4().hex[:8]}", Password="Parley-fuzz-1",
        IdentityInfo={"FirstName": "Fuzz", "LastName": "User"}, PhoneConfig={"PhoneType": "SOFT_PHONE"},
        SecurityProfileIds=[fdemo.security_profiles["Agent"]], RoutingProfileId=fdemo.basic_routing_profile)
    return str(created["UserId"])


@pytest.fixture(scope="session")
def fuzz_quick_connect(fconnect: Any, fdemo: DemoIds, fuzz_user: str) -> str:
    created = fconnect.create_quick_connect(
        InstanceId=fdemo.instance_id, Name=f"fuzz-{uuid.uuid4().hex[:8]}", QuickConnectConfig={
            "QuickConnectType": "USER",
            "UserConfig": {"UserId": fuzz_user, "ContactFlowId": fdemo.agent_transfer_flow}})
    return str(created["QuickConnectId"])


@pytest.fixture(scope="session")
def cti_agent(fuzz_server: Server) -> Iterator[Any]:
    """The demo agent the CTI and agent websocket fuzzers act as (signed in once)."""
    from tests.fuzz.agent import CtiAgent

    agent = CtiAgent(fuzz_server.url)
    yield agent
    agent.http.close()
