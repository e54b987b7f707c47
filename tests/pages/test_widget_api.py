"""The widget's JSON endpoints on running servers, called as browsers call them (httpx with their Origin headers) and
followed through with boto3's ``connectparticipant`` and ``connect`` clients: settings for allowed origins, chats
started through a widget, refusals that create nothing, widget tokens, the per-address rate, the
amazon-connect-chat-interface "startChat" contract, and the test chat page's endpoints.

Widgets are managed with the ``parley widget`` command on the server's own data directory, as an operator would.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from tests.aws.chat_helpers import participant_client
from tests.conftest import Server, serving

ALLOWED = "http://localhost:8000"  # one of the demo widget's allowed origins
REFUSED = "https://x.example"
INTERACTIVE_RESPONSE = "application/vnd.amazonaws.connect.message.interactive.response"


def cli(server: Server, *args: str) -> str:
    """``parley widget ARGS`` on the server's database; its stdout."""
    done = subprocess.run([sys.executable, "-m", "parley", "widget", *args, "--data-dir", str(server.data_dir),
                           "--public-url", server.url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def field(output: str, label: str) -> str:
    return next(line[16:].strip() for line in output.splitlines() if line.startswith(label))


def contact_rows(server: Server) -> int:
    """Contacts in the server's database (the Connect API has no operation listing them)."""
    with sqlite3.connect(f"file:{server.data_dir / 'parley.db'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM contacts").fetchone()[0])


def common(r: httpx.Response) -> httpx.Response:
    """Every answer: never cached, never sniffed, varying with the page's origin; never a 500."""
    assert r.status_code < 500, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["vary"] == "Origin"
    return r


def post(server: Server, path: str, body: Any, origin: str | None = ALLOWED, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    if origin is not None:
        headers["Origin"] = origin
    headers.setdefault("Content-Type", "application/json")
    return common(httpx.post(server.url + path, content=content, headers=headers))


@pytest.fixture(scope="module")
def demo_widget(server: Server) -> str:
    listed = cli(server, "list", "--instance", "demo")
    return next(line.split()[0] for line in listed.splitlines() if line.endswith("Demo widget"))


@pytest.fixture(scope="module")
def secure_widget(server: Server) -> tuple[str, str]:
    """(id, security key) of a widget with a security key, made with ``parley widget create --secure``."""
    out = cli(server, "create", "--instance", "demo", "--name", f"Secure {uuid.uuid4().hex[:8]}", "--secure",
              "--origin", ALLOWED)
    return field(out, "id"), field(out, "security key")


def join(server: Server, token: str) -> tuple[Any, str]:
    """A customer joined with boto3's connectparticipant: (client, connection token)."""
    part = participant_client(server.url)
    connection = part.create_participant_connection(ParticipantToken=token, Type=["CONNECTION_CREDENTIALS"],
                                                    ConnectParticipant=True)
    return part, connection["ConnectionCredentials"]["ConnectionToken"]


# settings -------------------------------------------------------------------------------------------------------


def test_config_answers_allowed_origins_and_same_origin_requests(server: Server, demo_widget: str) -> None:
    r = common(httpx.get(f"{server.url}/widget/{demo_widget}/config", headers={"Origin": ALLOWED}))
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ALLOWED
    assert r.json() == {"WidgetId": demo_widget, "Title": "Chat with us", "Greeting": None,
                        "PrimaryColor": "#2457c5", "OnPrimaryColor": "#ffffff", "NeedsToken": False,
                        "Region": "us-west-2", "ParticipantEndpoint": server.url}
    same = common(httpx.get(f"{server.url}/widget/{demo_widget}/config"))  # a same-origin GET sends no Origin
    assert same.status_code == 200 and "access-control-allow-origin" not in same.headers
    own = common(httpx.get(f"{server.url}/widget/{demo_widget}/config", headers={"Origin": server.url}))
    assert own.status_code == 200 and own.headers["access-control-allow-origin"] == server.url
    assert common(httpx.head(f"{server.url}/widget/{demo_widget}/config")).status_code == 200


def test_a_refused_origin_can_read_why(server: Server, demo_widget: str) -> None:
    r = common(httpx.get(f"{server.url}/widget/{demo_widget}/config", headers={"Origin": REFUSED}))
    assert r.status_code == 403
    assert r.headers["access-control-allow-origin"] == REFUSED
    assert r.json() == {"Code": "OriginNotAllowed",
                        "Message": "This website (https://x.example) is not allowed to start chats with this widget."}


@pytest.mark.parametrize("widget_id", [str(uuid.uuid4()), "not-a-widget", "%00", "x" * 300, "%0A"])
def test_unknown_widgets_are_404(server: Server, widget_id: str) -> None:
    r = common(httpx.get(f"{server.url}/widget/{widget_id}/config", headers={"Origin": ALLOWED}))
    assert r.status_code == 404 and r.json()["Code"] == "WidgetNotFound"
    assert "access-control-allow-origin" not in r.headers
    started = post(server, f"/widget/{widget_id}/start", {"DisplayName": "Jane"})
    assert started.status_code == 404 and started.json()["Code"] == "WidgetNotFound"


# starting a chat --------------------------------------------------------------------------------------------------


def test_a_widget_chat_is_a_real_chat(server: Server, demo_widget: str, demo_id: str, connect: Any) -> None:
    r = post(server, f"/widget/{demo_widget}/start", {"DisplayName": " Jane ", "Attributes": {"page": "/pricing"}})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == ALLOWED
    started = r.json()
    assert set(started) == {"ContactId", "ParticipantId", "ParticipantToken", "Region", "ParticipantEndpoint"}
    assert (started["Region"], started["ParticipantEndpoint"]) == ("us-west-2", server.url)

    part, connection = join(server, started["ParticipantToken"])
    part.send_message(ConnectionToken=connection, ContentType="text/plain", Content="Hello from the widget")
    answer = json.dumps({"templateIdentifier": str(uuid.uuid4()), "data": {"content": {"title": "Billing"}}})
    part.send_message(ConnectionToken=connection, ContentType=INTERACTIVE_RESPONSE, Content=answer)
    transcript = part.get_transcript(ConnectionToken=connection, SortOrder="ASCENDING")["Transcript"]
    messages = [(i["DisplayName"], i["ContentType"], i["Content"]) for i in transcript if i["Type"] == "MESSAGE"]
    assert messages == [("Jane", "text/plain", "Hello from the widget"), ("Jane", INTERACTIVE_RESPONSE, answer)]

    contact = connect.describe_contact(InstanceId=demo_id, ContactId=started["ContactId"])["Contact"]
    assert (contact["Channel"], contact["InitiationMethod"]) == ("CHAT", "API")
    attributes = connect.get_contact_attributes(InstanceId=demo_id, InitialContactId=started["ContactId"])
    assert attributes["Attributes"] == {"page": "/pricing"}


REFUSED_STARTS: list[tuple[str, str | None, Any, int, str]] = [
    ("refused origin", REFUSED, {"DisplayName": "Jane"}, 403, "OriginNotAllowed"),
    ("no origin", None, {"DisplayName": "Jane"}, 403, "OriginNotAllowed"),
    ("opaque origin", "null", {"DisplayName": "Jane"}, 403, "OriginNotAllowed"),
    ("not JSON", ALLOWED, b"{DisplayName: Jane}", 400, "InvalidRequest"),
    ("not an object", ALLOWED, ["Jane"], 400, "InvalidRequest"),
    ("empty body", ALLOWED, b"", 400, "InvalidRequest"),
    ("unknown field", ALLOWED, {"DisplayName": "Jane", "InstanceId": "other"}, 400, "InvalidRequest"),
    ("name missing", ALLOWED, {}, 400, "InvalidRequest"),
    ("name a number", ALLOWED, {"DisplayName": 5}, 400, "InvalidRequest"),
    ("name blank", ALLOWED, {"DisplayName": "   "}, 400, "InvalidRequest"),
    ("name too long", ALLOWED, {"DisplayName": "x" * 257}, 400, "InvalidRequest"),
    ("name with NUL", ALLOWED, {"DisplayName": "Ja\u0000ne"}, 400, "InvalidRequest"),
    ("attributes a list", ALLOWED, {"DisplayName": "Jane", "Attributes": ["a"]}, 400, "InvalidRequest"),
    ("attribute a number", ALLOWED, {"DisplayName": "Jane", "Attributes": {"a": 1}}, 400, "InvalidRequest"),
    ("attribute unnamed", ALLOWED, {"DisplayName": "Jane", "Attributes": {"": "x"}}, 400, "InvalidRequest"),
    ("attribute with NUL", ALLOWED, {"DisplayName": "Jane", "Attributes": {"a": "x\u0000"}}, 400, "InvalidRequest"),
    ("token a number", ALLOWED, {"DisplayName": "Jane", "Token": 1}, 400, "InvalidRequest"),
    ("deep nesting", ALLOWED, b"[" * 5000 + b"]" * 5000, 400, "InvalidRequest"),
]


@pytest.mark.parametrize(("why", "origin", "body", "status", "code"), REFUSED_STARTS,
                         ids=[case[0] for case in REFUSED_STARTS])
def test_refused_starts_say_why_and_create_nothing(server: Server, demo_widget: str, why: str, origin: str | None,
                                                    body: Any, status: int, code: str) -> None:
    before = contact_rows(server)
    r = post(server, f"/widget/{demo_widget}/start", body, origin)
    assert (r.status_code, r.json()["Code"]) == (status, code), r.text
    assert r.json()["Message"]
    if origin == ALLOWED:
        assert r.headers["access-control-allow-origin"] == ALLOWED  # the widget can show the reason
    assert contact_rows(server) == before


def test_bodies_over_16_kib_are_refused_unread(server: Server, demo_widget: str) -> None:
    big = json.dumps({"DisplayName": "Jane", "Attributes": {"a": "x" * 17000}}).encode()
    assert post(server, f"/widget/{demo_widget}/start", big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused once the stream passes the cap
        yield b'{"DisplayName": "Jane", "Attributes": {"a": "'
        for _ in range(40):
            yield b"x" * 1024
        yield b'"}}'

    r = common(httpx.post(f"{server.url}/widget/{demo_widget}/start", content=chunks(),
                          headers={"Origin": ALLOWED, "Content-Type": "application/json"}))
    assert (r.status_code, r.json()["Code"]) == (413, "RequestTooLarge")


def test_preflights_answer_allowed_origins_only(server: Server, demo_widget: str) -> None:
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    r = common(httpx.options(f"{server.url}/widget/{demo_widget}/start", headers={"Origin": ALLOWED, **ask}))
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert r.headers["access-control-allow-methods"] == "POST"
    assert "content-type" in r.headers["access-control-allow-headers"].lower()
    refused = common(httpx.options(f"{server.url}/widget/{demo_widget}/start", headers={"Origin": REFUSED, **ask}))
    assert refused.status_code == 403 and "access-control-allow-methods" not in refused.headers


def test_other_methods_get_405_in_json(server: Server, demo_widget: str) -> None:
    r = common(httpx.put(f"{server.url}/widget/{demo_widget}/start", headers={"Origin": ALLOWED}))
    assert (r.status_code, r.json()["Code"], r.headers["allow"]) == (405, "MethodNotAllowed", "POST")
    r = common(httpx.post(f"{server.url}/widget/{demo_widget}/config", headers={"Origin": ALLOWED}))
    assert r.status_code == 405


# widget tokens -----------------------------------------------------------------------------------------------------


def token(widget_id: str, key: str, **changes: Any) -> str:
    now = int(time.time())
    return jwt.encode({"sub": widget_id, "iat": now, "exp": now + 300, **changes}, key, algorithm="HS256")


def test_a_secured_widget_needs_a_valid_token(server: Server, secure_widget: tuple[str, str], demo_id: str,
                                               connect: Any) -> None:
    widget_id, key = secure_widget
    assert len(key) == 44
    config = common(httpx.get(f"{server.url}/widget/{widget_id}/config", headers={"Origin": ALLOWED}))
    assert config.json()["NeedsToken"] is True and key not in config.text
    now = int(time.time())
    refusals = [
        (None, "none was sent"),
        (token(widget_id, "k" * 44), "not signed with this widget's key"),
        (token(widget_id, key, iat=now - 700, exp=now - 400), "has expired"),
        (token(widget_id, key, exp=now + 3600), "at most 600"),
        (token(str(uuid.uuid4()), key), "for another widget"),
        (jwt.encode({"sub": widget_id, "iat": now, "exp": now + 60}, key="", algorithm="none"), "alg none"),
        ("not.a.jwt", "header is not a JSON object"),
        ("###.a.b", "header is not base64url"),
    ]
    before = contact_rows(server)
    for value, why in refusals:
        body = {"DisplayName": "Jane"} | ({"Token": value} if value else {})
        r = post(server, f"/widget/{widget_id}/start", body)
        assert (r.status_code, r.json()["Code"]) == (403, "InvalidToken"), r.text
        assert why in r.json()["Message"], (why, r.json())
    assert contact_rows(server) == before

    good = token(widget_id, key, attributes={"customerId": "c-42", "tier": "gold"})
    r = post(server, f"/widget/{widget_id}/start",
             {"DisplayName": "Jane", "Attributes": {"tier": "platinum", "page": "/"}, "Token": good})
    assert r.status_code == 200, r.text
    attributes = connect.get_contact_attributes(InstanceId=demo_id, InitialContactId=r.json()["ContactId"])
    assert attributes["Attributes"] == {"customerId": "c-42", "tier": "gold", "page": "/"}  # the token's win

    rotated = cli(server, "rotate-key", widget_id)
    assert field(rotated, "security key").split()[0] != key
    r = post(server, f"/widget/{widget_id}/start", {"DisplayName": "Jane", "Token": good})
    assert (r.status_code, r.json()["Code"]) == (403, "InvalidToken")


# the rate of chat starts ------------------------------------------------------------------------------------------


def test_an_address_starting_too_many_chats_is_told_when_to_retry() -> None:
    with serving(["--demo", "--rate-limits", "on", "--rate-limit", "StartWidgetChat=0.05/2"]) as limited:
        listed = cli(limited, "list", "--instance", "demo")
        widget_id = next(line.split()[0] for line in listed.splitlines() if line.endswith("Demo widget"))
        bad = post(limited, f"/widget/{widget_id}/start", {"DisplayName": ""})
        assert bad.status_code == 400  # refusals do not use up the address's chats
        for _ in range(2):
            assert post(limited, f"/widget/{widget_id}/start", {"DisplayName": "Jane"}).status_code == 200
        before = contact_rows(limited)
        r = post(limited, f"/widget/{widget_id}/start", {"DisplayName": "Jane"})
        assert (r.status_code, r.json()["Code"]) == (429, "Throttled")
        assert 1 <= int(r.headers["retry-after"]) <= 20
        assert r.headers["access-control-allow-origin"] == ALLOWED
        assert f"Try again in {r.headers['retry-after']} second" in r.json()["Message"]
        test_chat = post(limited, "/test-chat/start", {"InstanceId": "x", "ContactFlowId": "y", "DisplayName": "J"},
                         limited.url)
        assert test_chat.status_code == 404  # the rate is checked after the request's own checks
        options = common(httpx.get(limited.url + "/test-chat/options")).json()
        flow = next(f["Id"] for f in options[0]["ContactFlows"] if f["Default"])
        test_chat = post(limited, "/test-chat/start", {"InstanceId": options[0]["InstanceId"], "ContactFlowId": flow,
                                                       "DisplayName": "J"}, limited.url)
        assert (test_chat.status_code, test_chat.json()["Code"]) == (429, "Throttled")  # one rate per address
        assert contact_rows(limited) == before


# amazon-connect-chat-interface's startChat contract ------------------------------------------------------------------


def chat_interface_body(**changes: Any) -> dict[str, Any]:
    """What ChatInitiator.js's initiateChat posts to its apiGatewayEndpoint."""
    return {"InstanceId": "11111111-1111-1111-1111-111111111111", "ContactFlowId": "not-this-flow",
            "ParticipantDetails": {"DisplayName": "Jane"}, "Username": "jane", **changes}


def test_the_chat_interface_contract(server: Server, demo_widget: str, demo_id: str, connect: Any) -> None:
    body = chat_interface_body(Attributes={"customAttribute": "myCustomAttribute"},
                               InitialMessage={"ContentType": "text/plain", "Content": "I need help"},
                               SupportedMessagingContentTypes=["text/plain", "text/markdown"],
                               ChatDurationInMinutes=60)
    # fetch() with a string body and no headers: text/plain, so no preflight.
    r = post(server, f"/widget/{demo_widget}/start-chat", body, **{"Content-Type": "text/plain;charset=UTF-8"})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == ALLOWED
    data = r.json()["data"]
    result = data["startChatResult"]
    assert set(result) == {"ContactId", "ParticipantId", "ParticipantToken"}
    assert data["featurePermissions"] == {"ATTACHMENTS": True, "MESSAGING_MARKDOWN": True}
    # The widget's instance and flow, whatever the browser said.
    contact = connect.describe_contact(InstanceId=demo_id, ContactId=result["ContactId"])["Contact"]
    assert contact["Channel"] == "CHAT"
    attributes = connect.get_contact_attributes(InstanceId=demo_id, InitialContactId=result["ContactId"])
    assert attributes["Attributes"] == {"customerName": "Jane", "customAttribute": "myCustomAttribute"}
    part, connection = join(server, result["ParticipantToken"])
    transcript = part.get_transcript(ConnectionToken=connection, SortOrder="ASCENDING")["Transcript"]
    assert [i["Content"] for i in transcript if i["Type"] == "MESSAGE"] == ["I need help"]

    # Attributes as the JSON text of the widget's contactAttributes option.
    r = post(server, f"/widget/{demo_widget}/start-chat", chat_interface_body(Attributes='{"plan": "gold"}'))
    attributes = connect.get_contact_attributes(InstanceId=demo_id,
                                                InitialContactId=r.json()["data"]["startChatResult"]["ContactId"])
    assert attributes["Attributes"] == {"customerName": "Jane", "plan": "gold"}


@pytest.mark.parametrize(("body", "origin", "status", "code"), [
    (chat_interface_body(ParticipantDetails=None), ALLOWED, 400, "InvalidRequest"),
    (chat_interface_body(ParticipantDetails={"DisplayName": 7}), ALLOWED, 400, "InvalidRequest"),
    (chat_interface_body(Attributes="{not json"), ALLOWED, 400, "InvalidRequest"),
    (chat_interface_body(ChatDurationInMinutes=5), ALLOWED, 400, "InvalidRequest"),
    (chat_interface_body(ChatDurationInMinutes="60"), ALLOWED, 400, "InvalidRequest"),
    (chat_interface_body(SupportedMessagingContentTypes=["text/html"]), ALLOWED, 400, "InvalidRequest"),
    (chat_interface_body(InitialMessage={"ContentType": "text/html", "Content": "x"}), ALLOWED, 400,
     "InvalidRequest"),
    (chat_interface_body(), REFUSED, 403, "OriginNotAllowed"),
])
def test_the_chat_interface_gets_the_lambdas_failure_shape(server: Server, demo_widget: str, body: dict[str, Any],
                                                          origin: str, status: int, code: str) -> None:
    before = contact_rows(server)
    r = post(server, f"/widget/{demo_widget}/start-chat", body, origin)
    assert (r.status_code, r.json()["Code"]) == (status, code), r.text
    assert r.json()["data"]["Error"] == {"code": code, "message": r.json()["Message"], "statusCode": status}
    assert contact_rows(server) == before


# the test chat page -------------------------------------------------------------------------------------------------


def test_test_chats_in_demo_mode(server: Server, demo_id: str) -> None:
    options = common(httpx.get(server.url + "/test-chat/options"))
    assert options.status_code == 200
    first = options.json()[0]
    assert (first["InstanceId"], first["InstanceAlias"]) == (demo_id, "demo")
    [default] = [f for f in first["ContactFlows"] if f["Default"]]
    assert default["Name"] == "Sample inbound flow"
    assert common(httpx.get(server.url + "/test-chat/options", headers={"Origin": REFUSED})).status_code == 403

    body = {"InstanceId": demo_id, "ContactFlowId": default["Id"], "DisplayName": "Jane", "Attributes": {"a": "b"}}
    r = post(server, "/test-chat/start", body, server.url)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"ContactId", "ParticipantId", "ParticipantToken", "Region", "ParticipantEndpoint"}
    part, connection = join(server, r.json()["ParticipantToken"])
    part.send_message(ConnectionToken=connection, ContentType="text/markdown", Content="**hi**")

    before = contact_rows(server)
    for origin, changes, status, code in [
        (REFUSED, {}, 403, "OriginNotAllowed"),
        (None, {}, 403, "OriginNotAllowed"),
        (server.url, {"InstanceId": str(uuid.uuid4())}, 404, "ResourceNotFound"),
        (server.url, {"ContactFlowId": "nope"}, 404, "ResourceNotFound"),
        (server.url, {"Extra": 1}, 400, "InvalidRequest"),
        (server.url, {"DisplayName": None}, 400, "InvalidRequest"),
    ]:
        refused = post(server, "/test-chat/start", body | changes, origin)
        assert (refused.status_code, refused.json()["Code"]) == (status, code), refused.text
        assert "access-control-allow-origin" not in refused.headers
    assert contact_rows(server) == before


def test_test_chats_need_sign_in_without_demo() -> None:
    with serving(["--access-key", "test:test"]) as plain:
        r = common(httpx.get(plain.url + "/test-chat/options"))
        assert (r.status_code, r.json()["Code"]) == (403, "SignInRequired")
        body = {"InstanceId": str(uuid.uuid4()), "ContactFlowId": str(uuid.uuid4()), "DisplayName": "Jane"}
        r = post(plain, "/test-chat/start", body, plain.url, Cookie="parley_session=forged")
        assert (r.status_code, r.json()["Code"]) == (403, "SignInRequired")
        assert "Sign in" in r.json()["Message"]


# the command line ------------------------------------------------------------------------------------------------


def test_the_command_line_prints_the_embed_snippet(server: Server) -> None:
    name = f"Snippet {uuid.uuid4().hex[:8]}"
    created = cli(server, "create", "--instance", "demo", "--name", name, "--origin", "https://www.example.com",
                  "--title", "Talk to us", "--greeting", "Hello!")
    widget_id = field(created, "id")
    assert "security key    none" in created
    shown = cli(server, "show", widget_id)
    assert field(shown, "embed snippet") == (
        f'<script src="{server.url}/widget.js" data-widget-id="{widget_id}" async></script>')
    assert field(shown, "allowed origins").startswith("https://www.example.com")
    config = common(httpx.get(f"{server.url}/widget/{widget_id}/config", headers={"Origin": "https://www.example.com"}))
    assert (config.json()["Title"], config.json()["Greeting"]) == ("Talk to us", "Hello!")
    cli(server, "update", widget_id, "--clear-origins", "--primary-color", "#0b6e4f")
    refused = common(httpx.get(f"{server.url}/widget/{widget_id}/config", headers={"Origin": "https://www.example.com"}))
    assert refused.status_code == 403
    cli(server, "delete", widget_id)
    assert common(httpx.get(f"{server.url}/widget/{widget_id}/config")).status_code == 404
    failed = subprocess.run([sys.executable, "-m", "parley", "widget", "create", "--instance", "demo", "--name", "X",
                             "--primary-color", "yellow", "--data-dir", str(server.data_dir)],
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and "#rrggbb" in failed.stderr
