"""The pure decision engine: ``decide(snapshot, settings, now) -> Plan``.

Imports nothing with side effects; every input, including the time, is an argument.
"""

from wnm.engine.ladder import decide

__all__ = ["decide"]
