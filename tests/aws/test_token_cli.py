"""Participant and connection tokens work on the AWS CLI's command line (issue 17, item 10): a token starting
with ``-`` is read by the CLI's argument parser as an option ("expected one argument"), so Parley never hands
one out. Needs the ``aws`` command (AWS CLI v1 or v2); it is not a dependency of Parley."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest

from conftest import REGION, Server
from tests.aws.chat_helpers import new_chat, participant_client

AWS = shutil.which("aws")
pytestmark = pytest.mark.skipif(AWS is None, reason="the AWS CLI ('aws') is not installed")


def aws(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    assert AWS is not None
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    return subprocess.run([AWS, "--endpoint-url", server.url, "--output", "json", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_cli_takes_the_tokens_parley_hands_out(server: Server, connect: Any, demo: Any) -> None:
    # The hazard is real: the CLI refuses a value that starts with "-" before sending anything.
    dashed = aws(server, "connectparticipant", "send-message", "--connection-token", "-abc",
                 "--content-type", "text/plain", "--content", "x")
    assert dashed.returncode != 0 and "expected one argument" in dashed.stderr, dashed.stderr

    chat = new_chat(connect, participant_client(server.url), demo, bot=False)
    made = aws(server, "connectparticipant", "create-participant-connection", "--participant-token",
               chat.customer.participant_token, "--type", "CONNECTION_CREDENTIALS")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["ConnectionCredentials"]["ConnectionToken"]
    sent = aws(server, "connectparticipant", "send-message", "--connection-token", token,
               "--content-type", "text/plain", "--content", "from the CLI")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["Id"]
    assert "from the CLI" in [i.get("Content") for i in chat.customer.items()]
