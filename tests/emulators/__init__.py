"""Emulators of antnode, ant-node (v2) and antctl for tests; see build.py for the builders."""
