"""Cirrus: a serverless, Waldur-compatible cloud orchestration and service-marketplace platform."""
