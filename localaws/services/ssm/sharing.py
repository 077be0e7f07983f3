"""Parameters shared through AWS RAM, as Parameter Store serves them to other accounts
(docs/aws-behaviour.md, SSM-SHARED).

- RAM shares a parameter only in the advanced tier (Systems Manager user guide, "Working with
  shared parameters"; `PutResourcePolicy`); a SecureString only with a customer managed key.
- Another account reads it by its full ARN, never by name, and only while a share holding it
  reaches that account (an ASSOCIATED account principal, or the organization or an OU holding the
  account); the share's permission names what it may do (RAM's default for `ssm:Parameter`:
  read only).
- Its change events stay in the owning account (EVENT-SSM): nothing here emits any.

Stricter where unsure: a read of another account's parameter that no share reaches is answered
AccessDeniedException (whether AWS answers that or ParameterNotFound is UNVERIFIED: modelshare
treats both as unreadable), and a SecureString read with decryption by an account its key does
not admit (`SharedParameters.key_users`) likewise (how KMS's refusal surfaces through
Parameter Store is UNVERIFIED). GetParameters naming another account's ARN is not emulated.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from moto.ssm.models import ssm_backends

from localaws.core.errors import AwsError
from localaws.services.registry_state import RegistryState
from localaws.services.ssm.parameter_history import parameter_history

PARAMETER_TYPE = "ssm:Parameter"
# RAM's default (AWS managed) permission for parameters (RAM user guide, "Shareable AWS
# resources"); its action list beyond GetParameter is UNVERIFIED.
DEFAULT_PERMISSION = ("AWSRAMDefaultPermissionSSMParameterReadOnly", PARAMETER_TYPE, True,
                      ("ssm:DescribeParameters", "ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters"))
READS = frozenset({"GetParameter", "GetParameters", "GetParameterHistory"})
_ARN = re.compile(r"arn:aws[a-z-]*:ssm:([a-z0-9-]+):([0-9]{12}):parameter(/.+)")
_AWS_MANAGED_KEYS = (None, "", "alias/aws/ssm")


def stored(arn: str) -> Any | None:
    """The newest version moto keeps of the parameter `arn` names, or None."""
    match = _ARN.fullmatch(arn)
    if match is None:
        return None
    region, account, name = match.groups()
    versions = ssm_backends[account][region]._parameters.get(name)
    return versions[-1] if versions else None


def share_refusal(arn: str) -> str | None:
    """Why RAM will not share the parameter `arn` (its owner checked by RAM), or None."""
    parameter = stored(arn)
    if parameter is None:
        return f"Resource {arn} could not be found."
    if parameter.tier != "Advanced":
        return f"Only advanced-tier parameters can be shared; {arn} is {parameter.tier}."
    if parameter.parameter_type == "SecureString" and parameter.keyid in _AWS_MANAGED_KEYS:
        return f"A SecureString parameter can be shared only when a customer managed key encrypts it: {arn}."
    return None


def refuse_arn_name(params: dict[str, Any]) -> None:
    """PutParameter takes a name, never an ARN, even the caller's own parameter's (botocore's ssm
    model, PutParameter Name): moto would create a parameter named by the ARN. The error code is
    UNVERIFIED (docs/aws-behaviour.md, SSM-SHARED)."""
    name = str(params.get("Name", ""))
    if name.startswith("arn:"):
        raise AwsError("ValidationException", f"Parameter name: can't be an ARN ({name}); PutParameter takes the "
                                              "parameter's name, in its own account")


class SharedParameters:
    """Reads of other accounts' parameters, authorized by RAM's shares."""

    def __init__(self, ram_state: RegistryState) -> None:
        self.ram_state = ram_state
        # KMS key ID -> the accounts its key policy lets decrypt (its owner always may).
        self.key_users: dict[str, set[str]] = {}

    def answer(self, account: str, region: str, operation: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The output of a read moto must not answer (another account's parameter; any history),
        or None when moto answers it."""
        if self.foreign(account, params):
            return self.read(account, region, operation, params)
        return parameter_history(account, region, params) if operation == "GetParameterHistory" else None

    @staticmethod
    def foreign(account: str, params: dict[str, Any]) -> bool:
        """Whether the request names another account's parameter by ARN."""
        names = [params.get("Name"), *(params.get("Names") or [])]
        return any(isinstance(n, str) and (m := _ARN.fullmatch(n)) is not None and m.group(2) != account
                   for n in names)

    def read(self, account: str, region: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """The output of a read of another account's parameter, or the AwsError SSM answers."""
        if operation == "GetParameters":
            raise AwsError("ValidationException", "localaws: GetParameters of another account's parameter is not emulated")
        arn = str(params["Name"])
        match = _ARN.fullmatch(arn)
        assert match is not None  # foreign() said so
        owner = match.group(2)
        parameter = stored(arn)
        if match.group(1) != region or parameter is None or not self._reaches(arn, owner, account, f"ssm:{operation}"):
            raise AwsError("AccessDeniedException", f"User in account {account} is not authorized to perform "
                                                    f"ssm:{operation} on resource: {arn}", 400)
        decrypt = bool(params.get("WithDecryption"))
        if decrypt and parameter.parameter_type == "SecureString" \
                and account not in self.key_users.get(str(parameter.keyid), set()):
            raise AwsError("AccessDeniedException", f"The ciphertext refers to a customer master key that does not "
                                                    f"exist or that account {account} may not use (KMS).", 400)
        if operation == "GetParameterHistory":
            return parameter_history(owner, region, {**params, "Name": arn})
        return {"Parameter": {
            "Name": arn, "Type": parameter.parameter_type,
            "Value": parameter.decrypt(parameter.value) if decrypt else parameter.value,
            "Version": parameter.version, "ARN": arn, "DataType": parameter.data_type,
            "LastModifiedDate": parameter.last_modified_date.replace(tzinfo=UTC)}}

    def _reaches(self, arn: str, owner: str, account: str, action: str) -> bool:
        """Whether an active share of `owner` holding `arn` reaches `account` and grants `action`."""
        for share in self.ram_state.shares_holding(arn):
            if share.account != owner or self.ram_state.principal_status(share, account) != "ASSOCIATED":
                continue
            granted = {a for p in share.permission_arns if (permission := self.ram_state.permissions.get(p))
                       for s in permission.statements for a in s.get("Action", [])}
            if action in granted:
                return True
        return False
