"""What `sam build` (run by `make build`, before the tests) puts into Lambda: the handlers and the
layer, and never tests, the local AWS, the CLI or moto."""

from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
FORBIDDEN_DIRS = {"tests", "localaws", "modelshare_cli", "moto"}
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@pytest.fixture(scope="module")
def build() -> Path:
    if not (BUILD / "template.yaml").exists():
        pytest.fail(f"no SAM build at {BUILD}: run `make build` (make test does) first")
    return BUILD


def test_artifacts_hold_no_tests_emulator_cli_or_moto(build):
    offenders = [p for p in build.rglob("*") if p.is_dir() and p.name in FORBIDDEN_DIRS]
    offenders += [p for p in build.rglob("*.py") if p.name == "conftest.py"
                  or (p.name.startswith("test_") and "modelshare" in p.parts)]
    assert offenders == []


def test_functions_hold_only_their_handler_and_the_layer_the_domain(build):
    functions = sorted(p.name for p in build.iterdir() if p.is_dir() and p.name.endswith("Function"))
    assert functions == ["AcceptInvitationsFunction", "ForwardVersionsFunction", "OwnerReconcileFunction",
                         "PromoteFunction", "ShareOnCreateFunction"]
    for name in functions:
        assert sorted(f.name for f in (build / name).iterdir()) == ["app.py", "requirements.txt"]
    layer = build / "ModelshareLayer" / "python"
    # The domain's packages too, not only its top-level modules.
    for module in ("owner/service.py", "owner/run.py", "decision/rules.py", "aws/ram_owner.py", "aws/ram_consumer.py"):
        assert (layer / "modelshare" / module).exists(), module
    assert (layer / "aws_lambda_powertools").is_dir()
    # The layer ships the AWS SDK the tests run on, pinned (docs/aws-behaviour.md,
    # BOTOCORE-PINNED): the runtime's own is older and changes whenever Lambda updates it.
    shipped = {p.name for p in layer.iterdir()}
    pinned = {line.split("==")[0].lower().replace("-", "_"): line.split("==")[1].strip()
              for line in (ROOT / "layers" / "modelshare" / "requirements.txt").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    for package in ("boto3", "botocore", "s3transfer", "urllib3"):
        assert (layer / f"{package}-{pinned[package]}.dist-info").is_dir(), sorted(shipped)
        assert metadata.version(package) == pinned[package], f"the tests run on another {package} than the layer ships"
    # The type checker and the boto3 service stubs are development dependencies only.
    assert not [name for name in shipped if name.startswith(("mypy", "boto3_stubs", "botocore_stubs", "types_"))], \
        sorted(shipped)
    native = [p.name for p in layer.rglob("*.so")]
    assert all("aarch64" in name for name in native), f"native code must be built for arm64: {native}"


def test_artifact_sizes_stay_within_lambda_limits(build):
    sizes = {p.name: size_of(p) for p in build.iterdir() if p.is_dir()}
    report = ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in sorted(sizes.items()))
    print(f"\nLambda artifact sizes: {report}")
    assert sum(sizes.values()) < LAMBDA_UNZIPPED_LIMIT, report
    assert all(size < 64 * 1024 for name, size in sizes.items() if name.endswith("Function")), report


def test_the_layer_holds_the_model_of_every_service_modelshare_makes_a_client_for(build):
    # botocore finds a service's model in the layer's botocore/data; one left out of the build
    # would fail only when a function makes its client (docs/deploying.md, "What the layer holds").
    from typing import get_args

    from modelshare.aws import Service

    data = build / "ModelshareLayer" / "python" / "botocore" / "data"
    services = get_args(Service.__value__)
    assert services and all(sorted((data / service).glob("*/service-2.json*")) for service in services), services
