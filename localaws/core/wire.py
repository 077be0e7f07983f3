"""AWS's wire formats, driven by botocore's service models: no per-operation code here.

`decode_request` turns a really serialized boto3 request (json or rest-json protocol) back into
(operation model, Python params); `encode_response` / `encode_error` produce what the service
would send, so botocore's own parsers read it back. `violations` is the server-side half of the
model's constraints (enums, max lengths, ranges, patterns) that botocore does not check.
"""

from __future__ import annotations

import base64
import email.utils
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from botocore.awsrequest import AWSPreparedRequest
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from localaws.core.errors import AwsError


class WireEncodingError(RuntimeError):
    """The emulator produced output that does not fit the operation's output shape: a bug."""


def protocol_of(service_model: ServiceModel) -> str:
    return getattr(service_model, "resolved_protocol", None) or service_model.protocol


# ---------------------------------------------------------------------------------------------
# requests


def decode_request(
    service_model: ServiceModel, request: AWSPreparedRequest
) -> tuple[OperationModel, dict[str, Any]]:
    protocol = protocol_of(service_model)
    if protocol == "json":
        return _decode_json(service_model, request)
    if protocol == "rest-json":
        return _decode_rest_json(service_model, request)
    raise AwsError("InternalFailure", f"protocol {protocol} is not supported by localaws", 500)


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _body_json(request: AWSPreparedRequest) -> dict[str, Any]:
    body = request.body
    if body is None:
        return {}
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise AwsError("SerializationException", f"request body is not JSON: {exc}", 400) from exc
    if not isinstance(value, dict):
        raise AwsError("SerializationException", "request body must be a JSON object", 400)
    return value


def _decode_json(service_model: ServiceModel, request: AWSPreparedRequest) -> tuple[OperationModel, dict[str, Any]]:
    target = _text(request.headers.get("X-Amz-Target", ""))
    prefix, _, name = target.rpartition(".")
    if prefix != service_model.metadata.get("targetPrefix") or name not in service_model.operation_names:
        raise AwsError("UnknownOperationException", f"unknown operation {target!r}", 400)
    operation = service_model.operation_model(name)
    body = _body_json(request)
    shape = operation.input_shape
    params = _from_wire(shape, body) if shape is not None else {}
    return operation, params


def _uri_regex(request_uri: str) -> tuple[re.Pattern[str], set[str]]:
    path, _, query = request_uri.partition("?")
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("}"):
            label = part[1:-1]
            greedy = label.endswith("+")
            group = re.sub(r"\W", "_", label.rstrip("+"))
            pattern += f"(?P<{group}>{'.+' if greedy else '[^/]+'})"
        else:
            pattern += re.escape(part)
    literal_keys = {item.partition("=")[0] for item in query.split("&") if item}
    return re.compile(pattern + "/?"), literal_keys


def _find_rest_operation(service_model: ServiceModel, method: str, path: str,
                         query_keys: set[str]) -> tuple[OperationModel, dict[str, str]]:
    best: tuple[int, OperationModel, dict[str, str]] | None = None
    for name in service_model.operation_names:
        operation = service_model.operation_model(name)
        if operation.http.get("method", "POST").upper() != method.upper():
            continue
        regex, literal_keys = _uri_regex(operation.http.get("requestUri", "/"))
        match = regex.fullmatch(path)
        if match is None or not literal_keys <= query_keys:
            continue
        # Prefer the most specific template: more literal characters, more literal query keys.
        score = len(literal_keys) * 1000 + len(re.sub(r"\{[^}]+\}", "", operation.http["requestUri"]))
        if best is None or score > best[0]:
            best = (score, operation, {k: unquote(v) for k, v in match.groupdict().items()})
    if best is None:
        raise AwsError("UnknownOperationException", f"no operation for {method} {path}", 404)
    return best[1], best[2]


def _decode_rest_json(service_model: ServiceModel, request: AWSPreparedRequest) -> tuple[OperationModel, dict[str, Any]]:
    url = urlsplit(request.url)
    query = parse_qs(url.query, keep_blank_values=True)
    operation, labels = _find_rest_operation(service_model, request.method or "GET", url.path or "/", set(query))
    shape = operation.input_shape
    if shape is None:
        return operation, {}
    params: dict[str, Any] = {}
    payload_name = shape.serialization.get("payload")
    body_members = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            label = re.sub(r"\W", "_", wire_name)
            if label in labels:
                params[name] = _from_text(member, labels[label])
        elif location == "querystring":
            if isinstance(member, MapShape):
                params[name] = {k: v[0] if member.value.type_name != "list" else v for k, v in query.items()}
            elif wire_name in query:
                values = query[wire_name]
                params[name] = ([_from_text(member.member, v) for v in values]
                                if isinstance(member, ListShape) else _from_text(member, values[0]))
        elif location == "header":
            if member.type_name == "map":
                prefix = wire_name.lower()
                found = {k[len(prefix):]: _text(v) for k, v in request.headers.items() if k.lower().startswith(prefix)}
                if found:
                    params[name] = found
            elif wire_name in request.headers:
                params[name] = _from_header(member, _text(request.headers[wire_name]))
        elif location in ("headers", "statusCode"):
            continue
        else:
            body_members[name] = member
    if payload_name is not None:
        member = shape.members[payload_name]
        if member.type_name == "structure":
            body = _body_json(request)
            if body:
                params[payload_name] = _from_wire(member, body)
        else:
            raw = request.body or b""
            if raw:
                params[payload_name] = raw if member.type_name == "blob" else (
                    raw.decode() if isinstance(raw, bytes) else raw)
    elif body_members:
        body = _body_json(request)
        for name, member in body_members.items():
            wire_name = member.serialization.get("name", name)
            if wire_name in body:
                params[name] = _from_wire(member, body[wire_name])
    return operation, params


def _parse_timestamp(value: Any) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    text = str(value)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError) as exc:
            raise AwsError("SerializationException", f"bad timestamp {text!r}", 400) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _from_text(shape: Shape, text: str) -> Any:
    """A querystring or uri value."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError as exc:
        raise AwsError("SerializationException", f"{shape.name}: not a number: {text!r}", 400) from exc
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "timestamp":
        return _parse_timestamp(text)
    if kind == "blob":
        return base64.b64decode(text)
    return text


def _from_header(shape: Shape, text: str) -> Any:
    if isinstance(shape, ListShape):
        return [_from_text(shape.member, item.strip()) for item in text.split(",") if item.strip()]
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        return json.loads(base64.b64decode(text))
    return _from_text(shape, text)


def _from_wire(shape: Shape, value: Any) -> Any:
    """A JSON body value, converted to the Python type botocore's input uses for `shape`."""
    if value is None:
        return None
    kind = shape.type_name
    # botocore makes a StructureShape, ListShape or MapShape of each structure, list and map.
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            raise AwsError("SerializationException", f"{shape.name} must be an object", 400)
        out = {}
        for name, member in shape.members.items():
            wire_name = member.serialization.get("name", name)
            if wire_name in value and value[wire_name] is not None:
                out[name] = _from_wire(member, value[wire_name])
        return out
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            raise AwsError("SerializationException", f"{shape.name} must be a list", 400)
        return [_from_wire(shape.member, item) for item in value]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            raise AwsError("SerializationException", f"{shape.name} must be an object", 400)
        return {k: _from_wire(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return _parse_timestamp(value)
    if kind == "blob":
        return base64.b64decode(value)
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AwsError("SerializationException", f"{shape.name} must be an integer", 400)
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise AwsError("SerializationException", f"{shape.name} must be a boolean", 400)
        return value
    return value


# ---------------------------------------------------------------------------------------------
# server-side validation of the model's constraints


def violations(shape: Shape | None, value: Any, path: str = "") -> list[str]:
    """Messages, in AWS's "failed to satisfy constraint" style, for each constraint the model
    declares (enum, max/min length or value, pattern) that `value` breaks. botocore checks only
    required members, types and minimums before sending; the server checks the rest."""
    if shape is None or value is None:
        return []
    found: list[str] = []
    kind = shape.type_name
    meta = shape.metadata
    where = path or shape.name

    def broken(constraint: str) -> None:
        shown = value if not isinstance(value, (dict, list)) else f"<{kind}>"
        found.append(f"Value '{shown}' at '{where}' failed to satisfy constraint: {constraint}")

    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                child = f"{path}.{_lower_camel(name)}" if path else _lower_camel(name)
                found += violations(member, value[name], child)
    elif isinstance(shape, ListShape) and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            broken(f"Member must have length less than or equal to {meta['max']}")
        for index, item in enumerate(value):
            found += violations(shape.member, item, f"{where}.{index + 1}.member")
    elif kind == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            broken(f"Member must have length less than or equal to {meta['max']}")
    elif kind == "string" and isinstance(value, str):
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            broken(f"Member must satisfy enum value set: [{', '.join(enum)}]")
        if "max" in meta and len(value) > meta["max"]:
            broken(f"Member must have length less than or equal to {meta['max']}")
        if "min" in meta and len(value) < meta["min"]:
            broken(f"Member must have length greater than or equal to {meta['min']}")
        pattern = meta.get("pattern")
        if pattern and "\\p" not in pattern:  # Java Unicode classes: Python's re lacks them
            try:
                # re.ASCII: in Java, the model's language, the digit and word classes are ASCII only
                # (docs/aws-behaviour.md, WIRE-PATTERNS).
                if re.fullmatch(pattern, value, re.DOTALL | re.ASCII) is None:
                    broken(f"Member must satisfy regular expression pattern: {pattern}")
            except re.error:
                pass
    elif kind in ("integer", "long") and isinstance(value, int):
        if "max" in meta and value > meta["max"]:
            broken(f"Member must have value less than or equal to {meta['max']}")
        if "min" in meta and value < meta["min"]:
            broken(f"Member must have value greater than or equal to {meta['min']}")
    return found


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


# ---------------------------------------------------------------------------------------------
# responses


def _headers(protocol: str) -> dict[str, str]:
    return {
        "x-amzn-RequestId": str(uuid.uuid4()),
        "Content-Type": "application/x-amz-json-1.1" if protocol == "json" else "application/json",
    }


def encode_response(operation_model: OperationModel, output: dict[str, Any] | None) -> tuple[int, dict[str, str], bytes]:
    protocol = protocol_of(operation_model.service_model)
    headers = _headers(protocol)
    shape = operation_model.output_shape
    output = output or {}
    if shape is None:
        if output:
            raise WireEncodingError(f"{operation_model.name} has no output shape but got {sorted(output)}")
        return 200, headers, b"{}"
    _check_members(shape, output, operation_model.name)
    status = 200
    if protocol == "json":
        return status, headers, json.dumps(_to_wire(shape, output, operation_model.name)).encode()
    body_values: dict[str, Any] = {}
    payload_name = shape.serialization.get("payload")
    for name, value in output.items():
        if value is None:
            continue
        member = shape.members[name]
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "header":
            headers[wire_name] = _header_text(member, value)
        elif location == "headers":
            for key, item in value.items():
                headers[f"{wire_name}{key}"] = str(item)
        elif location == "statusCode":
            status = int(value)
        elif name == payload_name:
            if member.type_name == "structure":
                return status, headers, json.dumps(_to_wire(member, value, name)).encode()
            return status, headers, value if isinstance(value, bytes) else str(value).encode()
        else:
            body_values[name] = value
    body_shape_members = {n: m for n, m in shape.members.items() if n in body_values}
    body = {shape.members[n].serialization.get("name", n): _to_wire(m, body_values[n], f"{shape.name}.{n}")
            for n, m in body_shape_members.items()}
    return status, headers, json.dumps(body).encode()


def _check_members(shape: StructureShape, value: dict[str, Any], where: str) -> None:
    if not isinstance(value, dict):
        raise WireEncodingError(f"{where}: expected a dict for {shape.name}, got {type(value).__name__}")
    unknown = set(value) - set(shape.members)
    if unknown:
        raise WireEncodingError(f"{where}: {sorted(unknown)} not members of {shape.name}")


def _epoch(value: Any, where: str) -> float:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise WireEncodingError(f"{where}: expected an aware datetime, got {value!r}")
    return value.timestamp()


def _header_text(shape: Shape, value: Any) -> str:
    if shape.type_name == "timestamp":
        return email.utils.format_datetime(value.astimezone(UTC), usegmt=True)
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "list":
        return ",".join(str(v) for v in value)
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value).encode()).decode()
    return str(value)


def _to_wire(shape: Shape, value: Any, where: str) -> Any:
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        _check_members(shape, value, where)
        return {shape.members[k].serialization.get("name", k): _to_wire(shape.members[k], v, f"{where}.{k}")
                for k, v in value.items() if v is not None}
    if isinstance(shape, ListShape):
        if not isinstance(value, (list, tuple)):
            raise WireEncodingError(f"{where}: expected a list, got {value!r}")
        return [_to_wire(shape.member, item, f"{where}[]") for item in value]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            raise WireEncodingError(f"{where}: expected a dict, got {value!r}")
        return {k: _to_wire(shape.value, v, f"{where}.{k}") for k, v in value.items() if v is not None}
    if kind == "timestamp":
        if shape.serialization.get("timestampFormat") == "iso8601":
            _epoch(value, where)
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return _epoch(value, where)
    if kind == "blob":
        if not isinstance(value, (bytes, bytearray)):
            raise WireEncodingError(f"{where}: expected bytes, got {value!r}")
        return base64.b64encode(value).decode()
    if kind == "boolean":
        if not isinstance(value, bool):
            raise WireEncodingError(f"{where}: expected a bool, got {value!r}")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise WireEncodingError(f"{where}: expected an int, got {value!r}")
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise WireEncodingError(f"{where}: expected a number, got {value!r}")
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise WireEncodingError(f"{where}: expected a str, got {value!r}")
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            raise WireEncodingError(f"{where}: {value!r} is not one of {enum}")
        return value
    return value


def encode_error(service_model: ServiceModel, error: AwsError) -> tuple[int, dict[str, str], bytes]:
    protocol = protocol_of(service_model)
    status = error.status
    if status is None:
        shape = next((s for s in service_model.error_shapes if s.name == error.code), None)
        status = (shape.metadata.get("error", {}).get("httpStatusCode") if shape is not None else None) or 400
    headers = _headers(protocol)
    if protocol == "json":
        body = {"__type": error.code, "message": error.message}
    else:
        headers["x-amzn-ErrorType"] = error.code
        body = {"message": error.message}
    return int(status), headers, json.dumps(body).encode()
