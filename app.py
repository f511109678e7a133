"""The Chalice application: registers the blueprints and the middleware. Nothing else."""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib.api import auth, customers, projects, root, users
from chalicelib.api.middleware import drf_shapes

# Logs go through powertools (chalicelib/observability.py); Chalice would add a second, plain handler.
app = Chalice(app_name="cirrus", configure_logs=False)
app.register_middleware(drf_shapes, "http")
for blueprint in (root.bp, auth.bp, customers.bp, projects.bp, users.bp):
    app.register_blueprint(blueprint)
