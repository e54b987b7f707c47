"""The only modules that drive uvicorn's private internals: its httptools HTTP protocol and websockets-sansio
websocket protocol, subclassed (direct responses, connection limits, direct frames, draining). pyproject.toml
pins uvicorn and websockets to the minor versions these subclasses are tested with
(``tests/web/test_server_versions.py`` fails when another is installed)."""
