"""SigV4 through real clients against a running server (issue 17, item 11): boto3, the AWS SDK for JavaScript
v3's signer and the AWS CLI are accepted in the server's region, and a credential scoped to another region is
refused with AWS's 403 ``InvalidSignatureException``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig

from conftest import Server, serving
from tests.aws.conftest import check_refused

HERE = Path(__file__).parent
REPO = HERE.parent.parent
SIGNER = HERE / "sigv4_js_signer.mjs"
WRONG_REGION = "Credential should be scoped to a valid region, not '{}'. "


def connect_in(server: Server, region: str) -> Any:
    return boto3.client("connect", endpoint_url=server.url, region_name=region, aws_access_key_id="test",
                        aws_secret_access_key="test", config=BotoConfig(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def eu_server() -> Iterator[Server]:
    """A server whose region is eu-west-1."""
    with serving(["--demo", "--region", "eu-west-1"]) as srv:
        yield srv


def test_boto3_in_another_region_is_refused(server: Server, eu_server: Server) -> None:
    assert connect_in(server, "us-west-2").list_instances()["InstanceSummaryList"]
    check_refused(lambda: connect_in(server, "eu-west-1").list_instances(), "InvalidSignatureException", 403,
                  WRONG_REGION.format("eu-west-1"))
    # The region is the server's own, not a fixed one.
    assert connect_in(eu_server, "eu-west-1").list_instances()["InstanceSummaryList"]
    check_refused(lambda: connect_in(eu_server, "us-west-2").list_instances(), "InvalidSignatureException", 403,
                  WRONG_REGION.format("us-west-2"))


def js_sdk(server: Server, region: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if shutil.which("node") is None or not (REPO / "node_modules" / "@smithy" / "signature-v4").is_dir():
        pytest.fail("Node.js and the npm packages (scripts/install) are needed for the JavaScript SDK signer")
    done = subprocess.run(["node", str(SIGNER), json.dumps({"url": server.url, "region": region,
                                                             "requests": requests})],
                          capture_output=True, text=True, timeout=60, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def test_javascript_sdk_v3_signer(server: Server, connect: Any, demo: Any) -> None:
    iid = demo.instance_id
    origin = "https://js-sdk-signed.example"
    first, listed, added, origins, refused = js_sdk(server, "us-west-2", [
        {"method": "GET", "path": "/instance"},
        # A query the signer escapes (RFC 3986) and sorts, with a value that needs escaping.
        {"method": "GET", "path": f"/users-summary/{iid}", "query": {"maxResults": "1"}},
        {"method": "PUT", "path": f"/instance/{iid}/approved-origin", "body": {"Origin": origin}},
        {"method": "GET", "path": f"/instance/{iid}/approved-origins", "query": {"maxResults": "7"}},
        {"method": "GET", "path": "/instance", "query": {"maxResults": "1", "nextToken": "a b/c=d+e*"}},
    ])
    assert first["status"] == 200 and json.loads(first["body"])["InstanceSummaryList"], first
    assert listed["status"] == 200 and len(json.loads(listed["body"])["UserSummaryList"]) == 1, listed
    assert added["status"] == 200, added
    assert origins["status"] == 200, origins
    assert origin in connect.list_approved_origins(InstanceId=iid)["Origins"]
    # Signed fine, refused for its content: the token is not one Parley handed out.
    assert refused["status"] == 400 and "NextToken" in refused["body"], refused
    (wrong,) = js_sdk(server, "eu-west-1", [{"method": "GET", "path": "/instance"}])
    assert wrong["status"] == 403 and WRONG_REGION.format("eu-west-1") in wrong["body"], wrong


AWS = shutil.which("aws")


@pytest.mark.skipif(AWS is None, reason="the AWS CLI ('aws') is not installed")
def test_aws_cli(server: Server) -> None:
    assert AWS is not None

    def aws(region: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
               "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        return subprocess.run([AWS, "--endpoint-url", server.url, "--region", region, "--output", "json", *args],
                              env=env, capture_output=True, text=True, timeout=60, check=False)

    listed = aws("us-west-2", "connect", "list-instances")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["InstanceSummaryList"]
    wrong = aws("eu-west-1", "connect", "list-instances")
    assert wrong.returncode != 0
    assert "InvalidSignatureException" in wrong.stderr and "valid region, not 'eu-west-1'" in wrong.stderr
