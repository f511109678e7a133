"""The single-table DynamoDB adapter. See ACCESS_PATTERNS.md beside this file."""
