"""End-to-end suites: real vendor clients (ChatJS, StreamsJS) in Node.js and headless Chromium against Parley."""
