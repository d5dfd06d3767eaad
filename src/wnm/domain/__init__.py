"""Pure domain values: nodes, host metrics, settings, actions and plans. No side effects."""
