"""Parley serving TLS itself: HTTPS endpoints, ``wss://`` websocket URLs, and no secrets in its log."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

import boto3
import httpx
import websockets

from tests.conftest import REGION, start_server


def make_cert(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


def test_tls_serves_https_and_wss_urls() -> None:
    data = Path(tempfile.mkdtemp(prefix="parley-tls-"))
    cert, key = make_cert(data)
    server = start_server(["--demo", "--tls-cert", str(cert), "--tls-key", str(key)], data_dir=data,
                          scheme="https")
    try:
        assert server.url.startswith("https://")
        assert httpx.get(f"{server.url}/health", verify=False).json()["status"] == "ok"
        connect = boto3.client("connect", endpoint_url=server.url, region_name=REGION, aws_access_key_id="test",
                               aws_secret_access_key="test", verify=False)
        iid = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
        flow = next(f["Id"] for f in connect.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]
                    if f["Name"] == "Sample inbound flow")
        chat = connect.start_chat_contact(InstanceId=iid, ContactFlowId=flow, ParticipantDetails={"DisplayName": "T"})
        participant = boto3.client("connectparticipant", endpoint_url=server.url, region_name=REGION,
                                   aws_access_key_id="x", aws_secret_access_key="x", verify=False)
        url = participant.create_participant_connection(
            ParticipantToken=chat["ParticipantToken"], Type=["WEBSOCKET"])["Websocket"]["Url"]
        assert url.startswith(f"wss://127.0.0.1:{server.port}/participant/ws?ticket=")

        async def subscribe() -> dict[str, object]:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            async with websockets.connect(url, ssl=context) as ws:
                await ws.send(json.dumps({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}}))
                return dict(json.loads(await ws.recv()))

        reply = asyncio.run(subscribe())
        assert reply == {"topic": "aws/subscribe", "content": {"status": "success", "topics": ["aws/chat"]}}
        with httpx.Client(base_url=server.url, verify=False) as browser:
            page = browser.get("/connect/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None
            signed_in = browser.post("/connect/login", data={
                "username": "agent1", "password": "Parley-demo-1", "instance": "demo", "csrf": csrf.group(1),
                "landat": "/connect/ccp-v2/"})
            assert signed_in.status_code == 303
            cookie = signed_in.headers["set-cookie"].lower()
            assert "parley_session=" in cookie and "samesite=none" in cookie and "secure" in cookie, cookie
        ticket = url.split("ticket=", 1)[1]
        assert ticket not in server.log(), "websocket tickets must not be written to the log"
        assert "ticket=***" in server.log()
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
