"""Log lines: a request aiohttp cannot parse is one WARNING line, not an ERROR trace."""

from __future__ import annotations

import logging

import pytest
from aiohttp.http_exceptions import BadHttpMessage

from service.logs import setup_logging


def test_a_malformed_request_is_one_warning_without_its_trace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    setup_logging()
    server = logging.getLogger("aiohttp.server")
    server.addHandler(caplog.handler)
    try:
        try:
            raise BadHttpMessage("Invalid header value char")
        except BadHttpMessage:
            server.exception("Error handling request from 127.0.0.1")
        try:
            raise RuntimeError("a bug of ours")
        except RuntimeError:
            server.exception("Error handling request from 127.0.0.1")
    finally:
        server.removeHandler(caplog.handler)
    malformed, ours = caplog.records[-2:]
    assert malformed.levelno == logging.WARNING and malformed.exc_info is None
    assert "malformed request refused (400)" in malformed.getMessage()
    assert ours.levelno == logging.ERROR and ours.exc_info is not None
