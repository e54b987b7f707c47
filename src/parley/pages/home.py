"""``/``: what this Parley serves and where, for a person in a browser; JSON callers keep the Connect API's
answer (an AWS-style error, as before there was a page), and browsers get an HTML page for paths with none."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from parley.pages.templating import Pages, wants_html
from parley.service.demo import DEMO_PASSWORD, Demo

BOTO3_SNIPPET = """import boto3

connect = boto3.client("connect", endpoint_url="{url}", region_name="{region}",
                       aws_access_key_id="{key_id}", aws_secret_access_key="{secret}")
instance = connect.list_instances()["InstanceSummaryList"][0]["Id"]
flows = connect.list_contact_flows(InstanceId=instance)["ContactFlowSummaryList"]
inbound = next(f["Id"] for f in flows if f["Name"] == "Sample inbound flow")
chat = connect.start_chat_contact(InstanceId=instance, ContactFlowId=inbound,
                                  ParticipantDetails={{"DisplayName": "Jane"}})

participant = boto3.client("connectparticipant", endpoint_url="{url}", region_name="{region}")
connection = participant.create_participant_connection(
    ParticipantToken=chat["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"], ConnectParticipant=True)
participant.send_message(ConnectionToken=connection["ConnectionCredentials"]["ConnectionToken"],
                         ContentType="text/plain", Content="Hello from boto3")"""


@dataclass(frozen=True)
class DemoFacts:
    """What the home page tells about the demo instance."""

    alias: str
    agents: tuple[str, ...]
    password: str
    widget_id: str | None

    @classmethod
    def of(cls, demo: Demo, agents: tuple[str, ...]) -> DemoFacts:
        return cls(demo.instance.alias or demo.instance.id, agents, DEMO_PASSWORD,
                   demo.widget_id)


class HomePage:
    """The ASGI endpoint of ``/``: the page for browsers, ``json`` (the Connect API) for everyone else."""

    def __init__(self, pages: Pages, json: ASGIApp, demo: DemoFacts | None, *, public_url: str, region: str,
                 access_key_id: str | None) -> None:
        self.pages, self.json, self.demo = pages, json, demo
        self.public_url, self.region, self.access_key_id = public_url, region, access_key_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if scope["method"] not in ("GET", "HEAD") or not wants_html(request):
            await self.json(scope, receive, send)
            return
        demo = self.demo
        key_id, secret = ("test", "test") if demo else (self.access_key_id or "YOUR_KEY_ID", "YOUR_SECRET")
        context = {
            "demo": demo,
            "boto3_snippet": BOTO3_SNIPPET.format(url=self.public_url, region=self.region, key_id=key_id,
                                                  secret=secret),
            "ccp_example": f"/connect/{demo.alias}/ccp-v2/" if demo else "/connect/<instance-alias>/ccp-v2/",
            "widget_snippet": (f'<script src="{self.public_url}/widget.js" data-widget-id="{demo.widget_id}" '
                               'async></script>') if demo and demo.widget_id else "",
        }
        await self.pages.render(request, "home.html", context)(scope, receive, send)


class NotFoundPage:
    """What answers a request no route took: an HTML page for a browser's GET, ``fallback`` for the rest."""

    def __init__(self, pages: Pages, fallback: ASGIApp) -> None:
        self.pages, self.fallback = pages, fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # a websocket to no route: the fallback refuses it (a Request is HTTP's only)
            await self.fallback(scope, receive, send)
            return
        request = Request(scope, receive)
        if scope["method"] in ("GET", "HEAD") and wants_html(request):
            page = self.pages.render(request, "not_found.html", {"path": request.url.path}, status=404)
            await page(scope, receive, send)
            return
        await self.fallback(scope, receive, send)
