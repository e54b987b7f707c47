"""``scripts/cluster`` brings up three nodes behind one HAProxy port: requests are spread over the nodes with no
stickiness, the README's boto3 example works against that port unchanged, and ``stop`` stops exactly what
``start`` started (PostgreSQL and Redis, already running, stay up)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import boto3
import httpx
import pytest
import redis

from tests.cluster.conftest import ROOT, start_cluster
from tests.conftest import REGION, admin, connect_client, run
from tests.fanout.test_bus_contract import REDIS_URL

pytestmark = pytest.mark.postgres


def readme_boto3_example() -> str:
    """The Python block under the README's "Administer it with boto3" heading."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Administer it with boto3", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README lost its boto3 example"
    return match.group(1)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def postgres_up() -> bool:
    async def ping() -> bool:
        conn = await admin()
        await conn.close()
        return True

    return run(ping())


def test_three_nodes_behind_one_port_and_stop_stops_only_what_it_started() -> None:
    with start_cluster(3) as cluster:
        status = cluster.script("status")
        assert status.returncode == 0, status.stdout + status.stderr
        for name in ("haproxy", "node1", "node2", "node3"):
            assert f"{name} running" in status.stdout
        pids = {int(p.read_text()) for p in cluster.run_dir.glob("*.pid")}
        assert len(pids) == 4  # haproxy and three nodes; PostgreSQL and Redis were already running
        again = cluster.script("start", "--storage", cluster.storage)
        assert again.returncode == 1 and "already runs" in again.stderr  # and the running cluster is left alone
        assert {int(p.read_text()) for p in cluster.run_dir.glob("*.pid")} == pids

        # One keep-alive connection to the balancer, and still every node answers in turn: no stickiness.
        with httpx.Client(base_url=cluster.url, timeout=10) as client:
            answered = [client.get("/ready") for _ in range(9)]
        assert all(r.status_code == 200 for r in answered), [r.text for r in answered]
        node_pids = {int(p.read_text()) for p in cluster.run_dir.glob("node*.pid")}
        assert {r.json()["pid"] for r in answered} == node_pids

        # The README's example, only the port changed, against the balancer.
        code = readme_boto3_example().replace("http://127.0.0.1:8800", cluster.url)
        example = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                                 check=False)
        assert example.returncode == 0, example.stderr + cluster.logs()
        assert "'Id':" in example.stdout and "EnqueueTimestamp" in example.stdout

        # Every node hands out the balancer's URL (--public-url), so websockets also go through HAProxy.
        connect = connect_client(cluster.url)
        iid = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
        flow = next(f["Id"] for f in connect.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]
                    if f["Name"] == "Sample inbound flow")
        participant = boto3.client("connectparticipant", endpoint_url=cluster.url, region_name=REGION,
                                   aws_access_key_id="x", aws_secret_access_key="x")
        for _ in range(3):  # one per node, round-robin
            chat = connect.start_chat_contact(InstanceId=iid, ContactFlowId=flow,
                                              ParticipantDetails={"DisplayName": "Ann"})
            url = participant.create_participant_connection(
                ParticipantToken=chat["ParticipantToken"], Type=["WEBSOCKET"])["Websocket"]["Url"]
            assert url.startswith(cluster.url.replace("http://", "ws://") + "/"), url

        stopped = cluster.script("stop")
        assert stopped.returncode == 0, stopped.stderr
        assert not [pid for pid in pids if alive(pid)]
        assert not list(cluster.run_dir.glob("*.pid"))
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{cluster.url}/ready", timeout=2)
        assert postgres_up()
        assert redis.Redis.from_url(REDIS_URL).ping()
