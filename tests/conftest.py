"""Shared test set-up: Powertools needs a namespace to flush metrics, and no test may reach AWS."""

import os

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ModelshareTests")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "modelshare")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
    os.environ.pop(_name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing-no-real-aws"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing-no-real-aws"
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
