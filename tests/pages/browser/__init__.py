"""Browser tests of the customer pages (issue 19): Playwright with Debian chromium, driven by accessible names."""
