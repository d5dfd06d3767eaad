"""Backends: how nodes are run (process managers) and how ports are opened (firewalls)."""
