"""modelshare: SageMaker Model Registry cross-account sharing that runs by itself.

All domain logic lives here, shared by every Lambda function (through the layer), the admin CLI
and the tests. The domain modules talk to AWS only through the small ports in `ports.py`; the
boto3 adapters live in `modelshare.aws`.
"""

# The one source of the version: pyproject.toml reads it, `modelshare --version` prints it, and
# CHANGELOG.md's latest entry names it.
__version__ = "0.2.0"
