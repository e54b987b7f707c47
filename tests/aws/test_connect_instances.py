"""Connect API through boto3: CreateInstance, ListInstances, DescribeInstance and instance attributes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

Refused = Callable[..., dict[str, Any]]

MULTI_PARTY = ("MULTI_PARTY_CHAT_CONFERENCE", "ENHANCED_CHAT_MONITORING")


def new_alias() -> str:
    return f"parley-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def fresh(connect: Any) -> dict[str, Any]:
    """An instance of this module's own, so switching attributes does not touch the demo instance."""
    alias = new_alias()
    created = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED", InstanceAlias=alias, InboundCallsEnabled=True,
        OutboundCallsEnabled=False,
    )
    return {**created, "Alias": alias}


def attributes(connect: Any, instance_id: str) -> dict[str, str]:
    rows: list[dict[str, str]] = []
    for page in connect.get_paginator("list_instance_attributes").paginate(InstanceId=instance_id):
        rows.extend(page["Attributes"])
    names = [a["AttributeType"] for a in rows]
    assert len(names) == len(set(names)), "a paged listing returned an attribute twice"
    return {a["AttributeType"]: a["Value"] for a in rows}


def instances(connect: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page in connect.get_paginator("list_instances").paginate():
        rows.extend(page["InstanceSummaryList"])
    return rows


def test_create_instance_is_listed_and_described(connect: Any, fresh: dict[str, Any]) -> None:
    assert fresh["Arn"] == f"arn:aws:connect:us-west-2:123456789012:instance/{fresh['Id']}"

    listed = instances(connect)
    mine = [i for i in listed if i["Id"] == fresh["Id"]]
    assert len(mine) == 1
    assert mine[0]["InstanceAlias"] == fresh["Alias"]
    assert mine[0]["InstanceStatus"] == "ACTIVE"
    assert mine[0]["IdentityManagementType"] == "CONNECT_MANAGED"

    instance = connect.describe_instance(InstanceId=fresh["Id"])["Instance"]
    assert instance["Id"] == fresh["Id"]
    assert instance["Arn"] == fresh["Arn"]
    assert instance["InstanceAlias"] == fresh["Alias"]
    assert instance["InstanceStatus"] == "ACTIVE"
    assert instance["InboundCallsEnabled"] is True
    assert instance["OutboundCallsEnabled"] is False
    assert isinstance(instance["CreatedTime"], datetime)
    assert instance["ServiceRole"].startswith("arn:aws:iam::123456789012:role/")


def test_new_instance_has_the_built_in_resources(
    fresh: dict[str, Any], builtins_of: Callable[[str], Any]
) -> None:
    ids = builtins_of(fresh["Id"])
    assert {"Sample inbound flow", "Default agent transfer", "Default queue transfer"} <= set(ids.flows)
    assert {"Admin", "Agent", "CallCenterManager"} <= set(ids.security_profiles)
    assert ids.basic_queue and ids.basic_routing_profile
    assert ids.users == {}


def test_list_instances_pages_with_max_results(connect: Any) -> None:
    for _ in range(2):
        connect.create_instance(IdentityManagementType="CONNECT_MANAGED", InstanceAlias=new_alias(),
                                InboundCallsEnabled=True, OutboundCallsEnabled=True)
    whole = instances(connect)
    seen: list[str] = []
    token: str | None = None
    while True:
        page = connect.list_instances(MaxResults=1, **({"NextToken": token} if token else {}))
        assert len(page["InstanceSummaryList"]) <= 1
        seen.extend(i["Id"] for i in page["InstanceSummaryList"])
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(i["Id"] for i in whole)
    assert len(seen) == len(set(seen))


def test_duplicate_alias_is_refused(connect: Any, fresh: dict[str, Any], refused: Refused) -> None:
    before = instances(connect)
    refused(
        lambda: connect.create_instance(IdentityManagementType="CONNECT_MANAGED", InstanceAlias=fresh["Alias"],
                                        InboundCallsEnabled=True, OutboundCallsEnabled=True),
        "InvalidRequestException", 400, fresh["Alias"], "already exists",
    )
    assert instances(connect) == before


def test_bad_alias_and_identity_type_are_refused(raw_connect: Any, connect: Any, refused: Refused) -> None:
    before = instances(connect)
    response = refused(
        lambda: raw_connect.create_instance(IdentityManagementType="CONNECT_MANAGED", InstanceAlias="d-abc",
                                            InboundCallsEnabled=True, OutboundCallsEnabled=True),
        "InvalidParameterException", 400, "1 validation error detected", "'instanceAlias'",
        "Member must satisfy regular expression pattern",
    )
    # The alias is a sensitive member of the model, so its value is not echoed.
    assert "d-abc" not in response["Error"]["Message"]
    refused(
        lambda: raw_connect.create_instance(IdentityManagementType="LDAP", InstanceAlias=new_alias(),
                                            InboundCallsEnabled=True, OutboundCallsEnabled=True),
        "InvalidParameterException", 400,
        "Value 'LDAP' at 'identityManagementType' failed to satisfy constraint: Member must satisfy enum value set",
    )
    refused(
        lambda: raw_connect.create_instance(IdentityManagementType="CONNECT_MANAGED", InstanceAlias=new_alias()),
        "InvalidParameterException", 400, "2 validation errors detected",
        "Value null at 'inboundCallsEnabled' failed to satisfy constraint: Member must not be null",
        "Value null at 'outboundCallsEnabled'",
    )
    assert instances(connect) == before


def test_list_instances_max_results_is_bounded(raw_connect: Any, refused: Refused) -> None:
    refused(
        lambda: raw_connect.list_instances(MaxResults=11), "InvalidParameterException", 400,
        "Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10",
    )


def test_describe_unknown_instance(connect: Any, refused: Refused) -> None:
    missing = str(uuid.uuid4())
    refused(lambda: connect.describe_instance(InstanceId=missing), "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.list_instance_attributes(InstanceId=missing), "ResourceNotFoundException", 404,
            missing)


def test_demo_instance_has_multi_party_chat_on(connect: Any, demo_id: str) -> None:
    values = attributes(connect, demo_id)
    for name in MULTI_PARTY:
        assert values[name] == "true"
        described = connect.describe_instance_attribute(InstanceId=demo_id, AttributeType=name)["Attribute"]
        assert described == {"AttributeType": name, "Value": "true"}


def test_list_instance_attributes_includes_both_multi_party_attributes(
    connect: Any, fresh: dict[str, Any]
) -> None:
    values = attributes(connect, fresh["Id"])
    for name in MULTI_PARTY:
        assert values[name] == "false"
    assert values["INBOUND_CALLS"] == "true"
    assert values["OUTBOUND_CALLS"] == "false"
    page = connect.list_instance_attributes(InstanceId=fresh["Id"], MaxResults=7)
    assert len(page["Attributes"]) == 7
    assert page["NextToken"]


def test_update_instance_attribute_switches_multi_party_chat(connect: Any) -> None:
    created = connect.create_instance(IdentityManagementType="CONNECT_MANAGED", InstanceAlias=new_alias(),
                                      InboundCallsEnabled=True, OutboundCallsEnabled=True)
    iid = created["Id"]
    for name in MULTI_PARTY:
        connect.update_instance_attribute(InstanceId=iid, AttributeType=name, Value="true")
    values = attributes(connect, iid)
    assert all(values[name] == "true" for name in MULTI_PARTY)

    connect.update_instance_attribute(InstanceId=iid, AttributeType="ENHANCED_CHAT_MONITORING", Value="false")
    values = attributes(connect, iid)
    assert values["MULTI_PARTY_CHAT_CONFERENCE"] == "true"
    assert values["ENHANCED_CHAT_MONITORING"] == "false"
    attribute = connect.describe_instance_attribute(InstanceId=iid, AttributeType="ENHANCED_CHAT_MONITORING")
    assert attribute["Attribute"]["Value"] == "false"


def test_bad_attribute_updates_are_refused_and_change_nothing(
    connect: Any, raw_connect: Any, fresh: dict[str, Any], refused: Refused
) -> None:
    iid = fresh["Id"]
    before = attributes(connect, iid)
    refused(
        lambda: raw_connect.update_instance_attribute(InstanceId=iid, AttributeType="BOGUS", Value="true"),
        "InvalidParameterException", 400,
        "Value 'BOGUS' at 'attributeType' failed to satisfy constraint: Member must satisfy enum value set",
        "MULTI_PARTY_CHAT_CONFERENCE",
    )
    refused(
        lambda: connect.update_instance_attribute(
            InstanceId=iid, AttributeType="MULTI_PARTY_CHAT_CONFERENCE", Value="maybe"),
        "InvalidParameterException", 400, "maybe", "MULTI_PARTY_CHAT_CONFERENCE",
    )
    refused(
        lambda: raw_connect.update_instance_attribute(
            InstanceId=iid, AttributeType="MULTI_PARTY_CHAT_CONFERENCE", Value="t" * 101),
        "InvalidParameterException", 400, "at 'value' failed to satisfy constraint",
        "Member must have length less than or equal to 100",
    )
    refused(
        lambda: raw_connect.list_instance_attributes(InstanceId=iid, MaxResults=8),
        "InvalidParameterException", 400,
        "Value '8' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 7",
    )
    assert attributes(connect, iid) == before


# approved origins: strictly scheme://host[:port] -----------------------------------------------------------
ORIGIN_RULE = ("An approved origin is scheme://host[:port] with scheme http or https and a host name, IPv4 address "
               "or [IPv6] address, without path, wildcard or anything else.")
NOT_A_FORM = "it is not of the form scheme://host[:port]"
NOT_DNS = "the host is not a valid DNS name"


def approved(connect: Any, instance_id: str) -> list[str]:
    rows: list[str] = []
    for page in connect.get_paginator("list_approved_origins").paginate(InstanceId=instance_id):
        rows.extend(page["Origins"])
    return rows


@pytest.mark.parametrize(("origin", "why"), [
    ("https://a.example; script-src * 'unsafe-inline'", NOT_DNS),  # a directive smuggled into the CCP's CSP
    ("https://*", NOT_DNS),  # any site could frame the CCP
    ("https://*.example.com", NOT_DNS),
    ("https://a.example,https://b.example", NOT_A_FORM),
    ("https://a.example https://b.example", NOT_A_FORM),
    ("'self'", NOT_A_FORM),
    ('https://"a.example"', NOT_DNS),
    (" https://a.example", NOT_A_FORM),
    ("https://a.example\r\nX-Injected", NOT_DNS),
    ("ftp://a.example", "the scheme must be http or https"),
    ("https://a.example/path", NOT_A_FORM),
    ("https://user@a.example", NOT_DNS),
    ("https://999.1.1.1", "the host is not a valid IPv4 address"),
    ("https://[1::2::3]", "the host is not a valid IPv6 address"),
    ("https://a.example:70000", "the port must be between 1 and 65535"),
    ("https://中文.example;x", "the host is not a valid internationalized domain name"),
])
def test_associate_approved_origin_refuses_what_is_not_an_origin(
    connect: Any, fresh: dict[str, Any], refused: Refused, origin: str, why: str
) -> None:
    before = approved(connect, fresh["Id"])
    response = refused(lambda: connect.associate_approved_origin(InstanceId=fresh["Id"], Origin=origin),
                       "InvalidParameterException", 400)
    assert response["Error"]["Message"] == f"Invalid origin '{origin}': {why}. {ORIGIN_RULE}"
    assert approved(connect, fresh["Id"]) == before


def test_idn_origins_are_stored_in_punycode(connect: Any, fresh: dict[str, Any], refused: Refused) -> None:
    connect.associate_approved_origin(InstanceId=fresh["Id"], Origin="https://中文.example:8443/")
    assert "https://xn--fiq228c.example:8443" in approved(connect, fresh["Id"])
    assert not any("中文" in origin for origin in approved(connect, fresh["Id"]))
    refused(lambda: connect.associate_approved_origin(InstanceId=fresh["Id"], Origin="https://xn--fiq228c.example:8443"),
            "ResourceConflictException", 409)
    connect.disassociate_approved_origin(InstanceId=fresh["Id"], Origin="https://中文.example:8443")
    assert "https://xn--fiq228c.example:8443" not in approved(connect, fresh["Id"])
