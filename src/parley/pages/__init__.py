"""The pages for people: the home page, the customer's test chat page and widget, and (coming) the agent
workspace and the admin console. An edge over the services like the Connect API: route modules stay thin and
call the services, which validate and check permissions."""

# The first path segments the pages own besides "/" itself: none is the first segment of an operation of the Connect
# or Participant Service models (tests/pages/test_foundation.py checks it against botocore's models), so a page can
# never shadow an API operation, now or when more operations are implemented.
PAGE_PREFIXES: tuple[str, ...] = (
    "/test-chat", "/widget", "/widget.js", "/agent", "/admin", "/static", "/vendor",
    "/transfer-dests", "/quick-connect-management",
)
