"""The console's routes: every area module's, sharing one :class:`~parley.pages.console.desk.Desk`."""

from __future__ import annotations

from starlette.routing import BaseRoute

from parley.domain.arns import Account
from parley.pages.console.audit import AuditPages
from parley.pages.console.desk import Desk, Services
from parley.pages.console.flows import FlowPages
from parley.pages.console.live import LivePages
from parley.pages.console.profiles import ProfilePages
from parley.pages.console.queues import QueuePages
from parley.pages.console.quick_connects import QuickConnectPages
from parley.pages.console.settings import InstancePages
from parley.pages.console.users import UserPages
from parley.pages.console.widgets import WidgetPages
from parley.pages.csrf import Csrf
from parley.pages.templating import Pages
from parley.service.widgets import origin_of


class ConsolePages:
    """``/admin`` and Connect's own console paths of a quick connect; ``session_cookie`` is the CCP's sign-in
    cookie, ``default_instance`` the alias the sign-in page offers (the demo's)."""

    def __init__(self, pages: Pages, services: Services, account: Account, *, public_url: str, session_cookie: str,
                 default_instance: str = "") -> None:
        csrf = Csrf(origin_of(public_url), secure=public_url.startswith("https"))
        self.desk = Desk(pages, services, csrf, account, session_cookie=session_cookie, public_url=public_url,
                         default_instance=default_instance)

    def routes(self) -> list[BaseRoute]:
        areas = (InstancePages, QuickConnectPages, QueuePages, UserPages, ProfilePages, FlowPages, WidgetPages)
        routes: list[BaseRoute] = [route for area in areas for route in area(self.desk).routes()]
        services = self.desk.services
        if services.live is not None:
            routes += LivePages(self.desk, services.live, services.monitoring).routes()
        if services.audit is not None:
            routes += AuditPages(self.desk, services.audit).routes()
        return routes
