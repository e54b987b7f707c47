"""Production mode: ``parley serve`` without ``--demo`` and without ``--access-key``.

The demo key ``test``/``test`` is refused with AWS's own 403; Parley creates one access key on first start in
``DATA_DIR/access-keys.json`` (mode 600, reused on restart, good for boto3); ``PARLEY_ACCESS_KEYS`` supplies keys
instead; and request rate limits are on by default with Connect's quotas (429 ThrottlingException).
"""

from __future__ import annotations

import json
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from parley.aws.ratelimit import CONNECT_DEFAULT
from tests.conftest import Server, connect_client, start_server

# AWS's answer to a request signed with an access key it does not know.
UNKNOWN_KEY = ("UnrecognizedClientException", "The security token included in the request is invalid.")
# ListInstances has no InstanceId: Connect limits it with the default quota of "every other operation".
CHEAP_OPERATION_RATE = CONNECT_DEFAULT


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No access keys from the environment of whoever runs the tests."""
    monkeypatch.delenv("PARLEY_ACCESS_KEYS", raising=False)


@pytest.fixture
def production(tmp_path: Path, clean_env: None) -> Iterator[Server]:
    srv = start_server([], tmp_path / "data")
    yield srv
    srv.stop()
    shutil.rmtree(srv.data_dir, ignore_errors=True)


def refused_as_unknown(client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        client.list_instances()
    error = exc.value.response["Error"]
    assert (error["Code"], error["Message"]) == UNKNOWN_KEY
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def key_file(server: Server) -> tuple[str, str]:
    path = server.data_dir / "access-keys.json"
    assert path.is_file(), f"no {path}; files: {sorted(p.name for p in server.data_dir.iterdir())}"
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600, f"{path} has mode {oct(mode)}: the secret must be readable by its owner only"
    keys = json.loads(path.read_text())
    assert isinstance(keys, dict) and len(keys) == 1, keys
    ((key_id, secret),) = keys.items()
    assert key_id and secret and key_id != "test"
    return key_id, secret


def test_demo_key_is_refused_without_demo(production: Server) -> None:
    refused_as_unknown(production.connect())  # test/test
    key_id, secret = key_file(production)
    assert production.connect(key=key_id, secret=secret).list_instances()["InstanceSummaryList"] == []
    # A known key with the wrong secret is a signature mismatch, not an unknown key.
    with pytest.raises(ClientError) as exc:
        production.connect(key=key_id, secret=secret + "x").list_instances()
    assert exc.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert f"created access key {key_id}" in production.log()


def test_generated_key_is_kept_across_restarts(production: Server) -> None:
    key_id, secret = key_file(production)
    client = production.connect(key=key_id, secret=secret)
    created = client.create_instance(IdentityManagementType="CONNECT_MANAGED", InstanceAlias="prod-keys",
                                     InboundCallsEnabled=True, OutboundCallsEnabled=True)
    production.restart()
    assert key_file(production) == (key_id, secret), "the restart made a new key"
    assert production.log().count("created access key") == 1, "the restart announced a new key"
    again = connect_client(production.url, key=key_id, secret=secret)
    assert [i["Id"] for i in again.list_instances()["InstanceSummaryList"]] == [created["Id"]]
    refused_as_unknown(production.connect())


def test_parley_access_keys_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_ACCESS_KEYS", "AKIDPARLEYONE:first-secret, AKIDPARLEYTWO:second-secret")
    srv = start_server([], tmp_path / "data")
    try:
        assert not (srv.data_dir / "access-keys.json").exists(), "keys were given: none should be generated"
        for key, secret in (("AKIDPARLEYONE", "first-secret"), ("AKIDPARLEYTWO", "second-secret")):
            assert srv.connect(key=key, secret=secret).list_instances()["InstanceSummaryList"] == []
        refused_as_unknown(srv.connect())
        refused_as_unknown(srv.connect(key="AKIDPARLEYTHREE", secret="first-secret"))
    finally:
        srv.stop()


def test_rate_limits_are_on_by_default(production: Server) -> None:
    """ListInstances (Connect's default quota: 2 requests/s, burst 5) answers 429 once the burst is spent; the
    successes before it fit the bucket, however slow or fast this machine is."""
    key_id, secret = key_file(production)
    client = production.connect(key=key_id, secret=secret)
    rate = CHEAP_OPERATION_RATE
    assert (rate.per_second, rate.burst) == (2, 5), "Connect's default quota changed in ratelimit.py"
    succeeded = 0
    began = time.monotonic()
    for _ in range(200):
        try:
            client.list_instances()
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ThrottlingException", error.response
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert "Rate exceeded" in error.response["Error"]["Message"]
            break
        succeeded += 1
        allowed = rate.burst + rate.per_second * (time.monotonic() - began) + 1
        assert succeeded <= allowed, f"{succeeded} calls in a row were answered: no rate limit is applied"
    else:
        pytest.fail("200 calls were answered without a ThrottlingException")
    assert succeeded >= rate.burst, f"throttled after {succeeded} calls, before the burst of {rate.burst}"
