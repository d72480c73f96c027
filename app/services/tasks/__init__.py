"""Tasks: the actions on one task, the queries of the task pages, bulk actions."""
