"""A lab as the kit stores it: its definition (``lab.toml``), the anatomy of its
files, starter markers, fixtures, hand-written mutants and the salt of its hidden seeds."""
