"""Firewall managers: ufw, firewalld and null."""
