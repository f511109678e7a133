"""The HTTP layer: Chalice blueprints per area, and rest.py (Waldur's REST conventions)."""
