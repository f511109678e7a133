"""Request authentication: tokens, impersonation (and, later, Cognito JWTs)."""
