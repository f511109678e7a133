"""Cirrus's AWS infrastructure as a CDK v2 app: the single table and the Chalice API."""

from cirrus_infra.stack import CirrusStack, StackSettings

__all__ = ["CirrusStack", "StackSettings"]
