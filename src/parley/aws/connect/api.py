"""Builds the Connect API endpoint: botocore's ``connect`` model, SigV4 and the handlers."""

from __future__ import annotations

from collections.abc import Mapping

from botocore.model import OperationModel
from starlette.requests import Request

from parley.aws.connect.contacts import ContactHandlers
from parley.aws.connect.context import ConnectContext
from parley.aws.connect.directory import DirectoryHandlers
from parley.aws.connect.instances import InstanceHandlers
from parley.aws.connect.metrics import MetricsHandlers
from parley.aws.connect.monitoring import MonitoringHandlers
from parley.aws.connect.quick_connects import QuickConnectHandlers
from parley.aws.errors import AwsError
from parley.aws.model import Service
from parley.aws.restjson import CONNECT, Authenticator, Limiter, RestJsonApi, collect_handlers
from parley.aws.sigv4 import SignatureError, SignedRequest, verify_sigv4
from parley.domain.callers import Operator
from parley.service.realtime import RealtimeService


def sigv4_authenticator(
    access_keys: Mapping[str, str], service: str, region: str | None = None
) -> Authenticator[Operator]:
    """An authenticator that accepts requests signed with one of ``access_keys`` (id -> secret), for
    ``service`` in ``region`` (AWS answers a credential scoped to another region with a 403); the caller is the
    :class:`Operator` of the access key that signed."""

    async def authenticate(request: Request, body: bytes, _op: OperationModel) -> Operator:
        raw_path = request.scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or request.url.path
        signed = SignedRequest(
            method=request.method, raw_path=raw_path,
            query_string=request.scope.get("query_string", b"").decode("latin-1"),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]], body=body,
        )
        try:
            return Operator(verify_sigv4(signed, access_keys.get, service=service, region=region))
        except SignatureError as exc:
            raise AwsError(exc.code, exc.message, exc.status) from exc

    return authenticate


def build_connect_api(
    service: Service, ctx: ConnectContext, access_keys: Mapping[str, str], limiter: Limiter | None = None,
    realtime: RealtimeService | None = None,
) -> RestJsonApi[Operator]:
    """``realtime``: the figures of GetCurrentMetricData and GetCurrentUserData (without it they are not served)."""
    metrics = [MetricsHandlers(realtime, ctx.account)] if realtime is not None else []
    handlers = collect_handlers(
        service, InstanceHandlers(ctx), DirectoryHandlers(ctx), QuickConnectHandlers(ctx), ContactHandlers(ctx),
        MonitoringHandlers(ctx), *metrics,
    )
    return RestJsonApi(
        service, handlers, sigv4_authenticator(access_keys, "connect", ctx.account.region), CONNECT,
        label="Connect API", limiter=limiter,
    )
