"""The Chalice application: registers the blueprints and the middleware. Nothing else."""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib.api import auth, customers, projects, root, users
from chalicelib.api.middleware import drf_shapes

app = Chalice(app_name="cirrus")
app.register_middleware(drf_shapes, "http")
for blueprint in (root.bp, auth.bp, customers.bp, projects.bp, users.bp):
    app.register_blueprint(blueprint)
