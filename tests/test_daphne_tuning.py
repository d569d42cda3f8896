from daphne.http_protocol import WebRequest
from twisted.web.test.requesthelper import DummyChannel

import glowworm.asgi  # noqa: F401  (applies the tuning, as Daphne's import of the application does)


def test_daphne_requests_leave_post_bodies_to_django():
    channel = DummyChannel()
    channel.factory = type("Factory", (), {"server": type("Server", (), {"protocol_connected": lambda s, r: None})()})()
    request = WebRequest(channel)
    assert request._parsePOSTFormSubmission is False  # Twisted would parse a 12 MB multipart body for nothing
