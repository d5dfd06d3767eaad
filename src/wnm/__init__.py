"""wnm: Weave Node Manager, keeps a host's Autonomi nodes as busy as the operator allows."""

__version__ = "1.0.0"
