"""Tests of the node generations layer (wnm.nodes)."""
