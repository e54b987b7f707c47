"""``/admin``: the administrator console, Connect's admin website for Parley. Server-rendered pages (Jinja2, a little
htmx) over the same service use cases the Connect API handlers call, with the signed-in user (a
:class:`~parley.domain.callers.Member`) as the caller: the services check the permissions and validate, and the
pages show their refusals as they are. One thin route module per area; :mod:`.desk` holds what they share."""
