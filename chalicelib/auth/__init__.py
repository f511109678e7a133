"""Request authentication: Waldur tokens, Cognito JWTs (bearer.py, jwks.py; the hosted UI in
hosted_ui.py), impersonation."""
