"""Reading a signed botocore request as AWS does (the caller's key, Region and service from its
SigV4 credential scope; the operation from its body or headers), and a query-protocol error."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSPreparedRequest

from localaws.core import wire
from localaws.core.errors import AwsError

CREDENTIAL = re.compile(r"Credential=([^/]+)/[0-9]{8}/([^/]+)/([^/]+)/aws4_request")


def query_error(error: AwsError) -> tuple[int, dict[str, str], bytes]:
    """An error as a query-protocol service answers it (IAM's and STS's code is AccessDenied)."""
    code = "AccessDenied" if error.code == "AccessDeniedException" else error.code
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(error.message)}"
            f"</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return 403, {"Content-Type": "text/xml"}, body.encode()


def iam_prefix(model: Any) -> str:
    """The service prefix IAM actions use (the signing name for these services)."""
    return str(model.metadata.get("signingName") or model.endpoint_prefix)


def json_target(request: AWSPreparedRequest) -> str:
    """The operation a JSON-protocol request names in its X-Amz-Target header ("" for others)."""
    return header(request, "X-Amz-Target").rpartition(".")[2]


def moto_request(model: Any, request: AWSPreparedRequest) -> tuple[str, dict[str, Any]]:
    """(operation, params) of a request moto will answer: decoded from the wire for JSON
    protocols, just the Action of a query-protocol request (STS)."""
    if model.protocol in ("json", "rest-json"):
        try:
            operation, params = wire.decode_request(model, request)
            return operation.name, params
        except AwsError:
            return "Unknown", {}
    body = request.body or b""
    text = body.decode() if isinstance(body, bytes) else str(body)
    action = parse_qs(text).get("Action", ["Unknown"])[0]
    return action, {}


def header(request: AWSPreparedRequest, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)
