"""Use cases, one function per command: check permission, load, apply the domain rule, commit one
unit of work."""
