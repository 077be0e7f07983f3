"""A local, multi-account AWS for modelshare's tests, demo and `modelshare simulate`.

moto serves what it does well (SSM, STS, SQS, CloudWatch); this package owns the whole SageMaker
model package group + AWS RAM surface, a simulated clock, CloudTrail/RAM/SSM events routed by
template.yaml's rule patterns, and Lambda's asynchronous invocation semantics. Never shipped in a
Lambda artifact.
"""
