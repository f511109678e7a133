"""Cirrus's AWS infrastructure as a CDK v2 app: the single table, the Chalice API and queue consumers,
the work queues, the Step Functions workflows and the EventBridge schedules."""

from cirrus_infra.stack import CirrusStack, StackSettings

__all__ = ["CirrusStack", "StackSettings"]
