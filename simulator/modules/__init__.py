"""The module tree: Compartment -> Branch -> Cell (-> Network), and views into it."""
