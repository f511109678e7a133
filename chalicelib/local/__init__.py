"""The embedded local stack: moto as the AWS endpoint, the same schema, the Chalice app on loopback."""
