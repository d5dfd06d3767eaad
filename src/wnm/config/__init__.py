"""Configuration: the option table, the layered parser, platform defaults and validation."""
