"""An invocation's log lines are its own, whatever this process configured before it: a Lambda
process starts with no logging set up, but a test process may already hold the layer's service
logger, configured by an earlier test while pytest held another stdout (a `capsys` test, an
xdist worker's collection). Its lines must still reach the invocation that wrote them
(world.logs), not that old stream."""

import io
import logging
import sys
from unittest import mock

from aws_lambda_powertools import Logger

from tests.integration.conftest import OWNER


def test_an_invocation_logs_to_itself_when_the_host_configured_the_service_logger_first(world):
    held_by_an_earlier_test = io.StringIO()
    with mock.patch.object(sys, "stdout", held_by_an_earlier_test):
        Logger(service="modelshare")  # configures the service logger unless something did already
    handlers = [h for h in logging.getLogger("modelshare").handlers if isinstance(h, logging.StreamHandler)]
    assert handlers
    streams = [h.setStream(held_by_an_earlier_test) for h in handlers]
    try:
        world.install(OWNER)
        world.create_group(OWNER, "churn-xgb")
        world.settle()

        assert any(r["message"] == "Shared group" for r in world.logs(OWNER, "INFO"))
        assert held_by_an_earlier_test.getvalue() == ""
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)
