"""Statistics and exports."""
