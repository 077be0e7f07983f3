"""Emulated SageMaker: model package groups and their resource policies."""
