"""Who does what: automatic dispatch, its rules, assignment, operator choice, capacity, boards."""
