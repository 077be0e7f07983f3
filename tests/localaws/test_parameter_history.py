"""GetParameterHistory as the Parameter Store API reference documents it (docs/aws-behaviour.md,
SSM-HISTORY), where moto falls short: the parameter named by its ARN, a token it did not hand out,
and pages of at most 50 over the 100 versions Parameter Store keeps."""

import pytest
from botocore.exceptions import ClientError

from localaws.runtime.cloud import LocalCloud

OWNER = "111122223333"
OTHER = "444455556666"


def test_the_history_pages_through_the_hundred_kept_versions_by_name_or_arn():
    with LocalCloud() as cloud:
        cloud.add_account(OWNER)
        cloud.add_account(OTHER)
        ssm = cloud.session(OWNER, "eu-west-1").client("ssm")
        for number in range(1, 106):
            ssm.put_parameter(Name="/modelshare/allowlist", Value=f"v{number}", Type="String", Overwrite=True)
        for name in ("/modelshare/allowlist", f"arn:aws:ssm:eu-west-1:{OWNER}:parameter/modelshare/allowlist"):
            pages = list(ssm.get_paginator("get_parameter_history").paginate(
                Name=name, PaginationConfig={"PageSize": 50}))
            assert [len(p["Parameters"]) for p in pages] == [50, 50]
            versions = [p["Version"] for page in pages for p in page["Parameters"]]
            assert versions == list(range(6, 106)), "the 100 most recent, the oldest first"
            assert pages[-1]["Parameters"][-1]["Value"] == "v105"
        with pytest.raises(ClientError) as too_many:
            ssm.get_parameter_history(Name="/modelshare/allowlist", MaxResults=51)
        assert too_many.value.response["Error"]["Code"] == "ValidationException"
        with pytest.raises(ClientError) as forged:
            ssm.get_parameter_history(Name="/modelshare/allowlist", NextToken="7")
        assert forged.value.response["Error"]["Code"] == "InvalidNextToken"
        # Another account's parameter that no RAM share reaches (docs/aws-behaviour.md, SSM-SHARED).
        with pytest.raises(ClientError) as elsewhere:
            cloud.session(OTHER, "eu-west-1").client("ssm").get_parameter_history(
                Name=f"arn:aws:ssm:eu-west-1:{OWNER}:parameter/modelshare/allowlist")
        assert elsewhere.value.response["Error"]["Code"] == "AccessDeniedException"
        # Deleting a parameter deletes its history.
        ssm.delete_parameter(Name="/modelshare/allowlist")
        with pytest.raises(ClientError) as gone:
            ssm.get_parameter_history(Name="/modelshare/allowlist")
        assert gone.value.response["Error"]["Code"] == "ParameterNotFound"
