"""Application flows: one run, dry run, init, forced actions and reports."""
