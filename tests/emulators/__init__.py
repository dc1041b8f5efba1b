"""Local HTTP servers that speak vendors' documented wire formats, for tests.

Each emulator is a callable from :class:`~tests.emulators._server.Request` to
:class:`~tests.emulators._server.Response`, served on 127.0.0.1 by
:class:`~tests.emulators._server.EmulatorServer`.
"""
