"""Master data and the admin pages' rules: people, departments, processes, products, plates, tokens."""
