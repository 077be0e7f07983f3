"""The wire layer alone: botocore's serializers make the requests, botocore's parsers read the answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse, create_request_object, prepare_request_dict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from localaws.core import wire
from localaws.core.errors import AwsError

MODELS = botocore.session.get_session()


def prepared(service: str, operation: str, params: dict, endpoint: str = "https://example.amazonaws.com"):
    model = MODELS.get_service_model(service)
    op = model.operation_model(operation)
    request_dict = create_serializer(wire.protocol_of(model)).serialize_to_request(params, op)
    prepare_request_dict(request_dict, endpoint_url=endpoint)
    return model, create_request_object(request_dict).prepare()


def parse(service: str, operation: str, status: int, headers: dict, body: bytes) -> dict:
    model = MODELS.get_service_model(service)
    op = model.operation_model(operation)
    parser = create_parser(wire.protocol_of(model))
    from botocore.awsrequest import HeadersDict
    return parser.parse({"status_code": status, "headers": HeadersDict(headers), "body": body}, op.output_shape)


def test_json_request_decodes_to_python_types():
    after = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    model, request = prepared("sagemaker", "ListModelPackageGroups",
                              {"CreationTimeAfter": after, "MaxResults": 7, "SortBy": "Name"})
    operation, params = wire.decode_request(model, request)
    assert operation.name == "ListModelPackageGroups"
    assert params == {"CreationTimeAfter": after, "MaxResults": 7, "SortBy": "Name"}


def test_rest_json_request_reads_body_and_querystring():
    model, request = prepared("ram", "DeleteResourceShare",
                              {"resourceShareArn": "arn:aws:ram:eu-west-1:111122223333:resource-share/abc",
                               "clientToken": "t-1"})
    assert request.method == "DELETE"
    operation, params = wire.decode_request(model, request)
    assert operation.name == "DeleteResourceShare"
    assert params == {"resourceShareArn": "arn:aws:ram:eu-west-1:111122223333:resource-share/abc", "clientToken": "t-1"}

    model, request = prepared("ram", "GetResourceShareAssociations",
                              {"associationType": "RESOURCE", "maxResults": 3, "resourceShareArns": ["a", "b"]})
    operation, params = wire.decode_request(model, request)
    assert operation.name == "GetResourceShareAssociations"
    assert params == {"associationType": "RESOURCE", "maxResults": 3, "resourceShareArns": ["a", "b"]}


def test_rest_json_uri_labels_and_headers_are_decoded():
    model, request = prepared("lambda", "Invoke", {"FunctionName": "my-fn", "InvocationType": "Event",
                                                    "Qualifier": "live", "Payload": b'{"a": 1}'})
    operation, params = wire.decode_request(model, request)
    assert operation.name == "Invoke"
    assert params["FunctionName"] == "my-fn"
    assert params["InvocationType"] == "Event"
    assert params["Qualifier"] == "live"
    assert params["Payload"] == b'{"a": 1}'


def test_unknown_json_operation_is_rejected_with_400():
    model, request = prepared("sagemaker", "ListModelPackageGroups", {})
    request.headers["X-Amz-Target"] = "SageMaker.NoSuchOperation"
    with pytest.raises(AwsError) as info:
        wire.decode_request(model, request)
    assert (info.value.code, info.value.status) == ("UnknownOperationException", 400)


def test_unknown_rest_json_path_is_rejected_with_404():
    model, request = prepared("ram", "GetResourceShares", {"resourceOwner": "SELF"})
    request.url = request.url.replace("/getresourceshares", "/nosuchthing")
    with pytest.raises(AwsError) as info:
        wire.decode_request(model, request)
    assert (info.value.code, info.value.status) == ("UnknownOperationException", 404)


def test_response_round_trips_through_botocore_parser():
    when = datetime(2026, 1, 5, 9, 0, 20, tzinfo=UTC)
    op = MODELS.get_service_model("ram").operation_model("GetResourceShares")
    status, headers, body = wire.encode_response(op, {"resourceShares": [{
        "resourceShareArn": "arn:x", "name": "n", "status": "ACTIVE", "creationTime": when,
        "featureSet": "STANDARD", "statusMessage": None}], "nextToken": None})
    assert status == 200 and headers["Content-Type"] == "application/json" and "x-amzn-RequestId" in headers
    assert "statusMessage" not in body.decode() and "nextToken" not in body.decode()
    parsed = parse("ram", "GetResourceShares", status, headers, body)
    share = parsed["resourceShares"][0]
    assert share["creationTime"] == when
    assert share["featureSet"] == "STANDARD"


def test_json_response_content_type():
    op = MODELS.get_service_model("sagemaker").operation_model("DeleteModelPackageGroup")
    status, headers, body = wire.encode_response(op, {})
    assert (status, headers["Content-Type"], body) == (200, "application/x-amz-json-1.1", b"{}")


def test_rest_json_header_and_status_code_members():
    op = MODELS.get_service_model("lambda").operation_model("Invoke")
    status, headers, body = wire.encode_response(op, {"StatusCode": 202, "FunctionError": "Unhandled",
                                                      "Payload": b'{"ok": true}'})
    assert status == 202 and headers["X-Amz-Function-Error"] == "Unhandled"
    parsed = parse("lambda", "Invoke", status, headers, body)
    assert parsed["StatusCode"] == 202 and parsed["FunctionError"] == "Unhandled"
    assert body == b'{"ok": true}'  # a streaming payload is the raw body


@pytest.mark.parametrize("output", [
    {"resourceShares": [], "surprise": 1},                                  # not a member
    {"resourceShares": [{"resourceShareArn": "a", "bogus": True}]},       # nested unknown
    {"resourceShares": [{"creationTime": datetime(2026, 1, 1)}]},         # naive datetime
    {"resourceShares": [{"featureSet": "GOLD"}]},                         # not in the enum
    {"resourceShares": [{"allowExternalPrincipals": "yes"}]},             # wrong type
])
def test_output_that_does_not_fit_the_shape_is_a_bug(output):
    op = MODELS.get_service_model("ram").operation_model("GetResourceShares")
    with pytest.raises(wire.WireEncodingError):
        wire.encode_response(op, output)


@pytest.mark.parametrize("service,operation,error,status", [
    ("sagemaker", "CreateModelPackageGroup", AwsError("ValidationException", "bad"), 400),
    ("sagemaker", "CreateModelPackageGroup", AwsError("ResourceLimitExceeded", "too many"), 400),
    ("sagemaker", "DescribeModelPackageGroup", AwsError("AccessDeniedException", "no", 403), 403),
    ("ram", "GetResourceShares", AwsError("InvalidParameterException", "bad"), 400),
    ("ram", "GetResourceShares", AwsError("ServerInternalException", "boom"), 500),
    ("ram", "AssociateResourceShare", AwsError("ThrottlingException", "slow down"), 429),
    ("ram", "GetResourceShares", AwsError("NotAModeledError", "x"), 400),
])
def test_errors_parse_back_to_their_code(service, operation, error, status):
    model = MODELS.get_service_model(service)
    got_status, headers, body = wire.encode_error(model, error)
    assert got_status == status
    if service == "ram":
        assert headers["x-amzn-ErrorType"] == error.code and json.loads(body) == {"message": error.message}
    else:
        assert json.loads(body) == {"__type": error.code, "message": error.message}
    parsed = parse(service, operation, got_status, headers, body)
    assert parsed["Error"]["Code"] == error.code
    assert parsed["Error"]["Message"] == error.message


def test_violations_report_server_side_constraints():
    op = MODELS.get_service_model("sagemaker").operation_model("ListModelPackageGroups")
    assert wire.violations(op.input_shape, {"MaxResults": 100, "SortBy": "Name"}) == []
    problems = wire.violations(op.input_shape, {"MaxResults": 101, "SortBy": "Size"})
    assert len(problems) == 2
    assert any("maxResults" in p and "less than or equal to 100" in p for p in problems)
    assert any("enum" in p for p in problems)
    put = MODELS.get_service_model("sagemaker").operation_model("PutModelPackageGroupPolicy")
    assert wire.violations(put.input_shape, {"ModelPackageGroupName": "bad_name", "ResourcePolicy": "{}"})


def test_aws_response_object_is_accepted_by_botocore():
    # What LocalCloud builds from encode_error: a real AWSResponse.
    from moto.core.botocore_stubber import MockRawResponse
    status, headers, body = wire.encode_error(MODELS.get_service_model("ram"), AwsError("UnknownResourceException", "gone"))
    response = AWSResponse("https://ram", status, headers, MockRawResponse(body))
    assert response.status_code == 400 and json.loads(response.content) == {"message": "gone"}
