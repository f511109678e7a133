"""Fake external service desks (Jira Service Management, Zammad) on 127.0.0.1 for the adapters'
contract tests: in-memory state, the documented endpoints the adapters use, the documented JSON
shapes, auth checked, and methods a test calls to act as the remote side (an agent comments,
resolves, a signed webhook is posted)."""
