"""ARNs of Connect resources: written in the AWS formats, read back into (instance, word, id), and anything else
refused."""

from __future__ import annotations

import pytest

from parley.domain.arns import ARN_WORDS, Account, parse_resource_arn

ACCOUNT = Account("eu-west-1", "123456789012")
IID = "11111111-2222-4333-8444-555555555555"


def test_instance_and_resource_arns() -> None:
    assert ACCOUNT.instance_arn(IID) == f"arn:aws:connect:eu-west-1:123456789012:instance/{IID}"
    assert ACCOUNT.arn(IID, "agent", "u1") == f"arn:aws:connect:eu-west-1:123456789012:instance/{IID}/agent/u1"
    china = Account("cn-north-1", "123456789012", partition="aws-cn")
    assert china.instance_arn(IID).startswith("arn:aws-cn:connect:cn-north-1:")


@pytest.mark.parametrize("word", sorted(ARN_WORDS.values()))
def test_every_resource_arn_reads_back(word: str) -> None:
    assert parse_resource_arn(ACCOUNT.arn(IID, word, "r-1")) == (IID, word, "r-1")


def test_the_arn_words_of_the_service_reference() -> None:
    assert ARN_WORDS["user"] == "agent"
    assert ARN_WORDS["quick_connect"] == "transfer-destination"
    assert ARN_WORDS["agent_status"] == "agent-state"
    assert ARN_WORDS["hours_of_operation"] == "operating-hours"


@pytest.mark.parametrize("arn", [
    "",
    "not an arn",
    f"arn:aws:s3:eu-west-1:123456789012:instance/{IID}/queue/q",  # another service
    f"arn:aws:connect:eu-west-1:123456789012:instance/{IID}",  # the instance itself
    f"arn:aws:connect:eu-west-1:123456789012:instance/{IID}/queue",  # no id
    f"arn:aws:connect:eu-west-1:123456789012:instance/{IID}/queue/q/extra",
    f"arn:aws:connect:eu-west-1:123456789012:other/{IID}/queue/q",
    f"xrn:aws:connect:eu-west-1:123456789012:instance/{IID}/queue/q",
])
def test_anything_else_is_not_a_resource_arn(arn: str) -> None:
    assert parse_resource_arn(arn) is None
