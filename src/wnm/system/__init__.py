"""The only code that talks to the OS: external commands, locks and file helpers."""
