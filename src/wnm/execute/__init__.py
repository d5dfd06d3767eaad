"""Carrying out plans: the ActionExecutor and the node lifecycle operations it uses."""
