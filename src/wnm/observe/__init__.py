"""Observation: host metrics, local ports, and the concurrent survey of every node."""
