"""Tests of the observation layer (wnm.observe)."""
