"""Published network models built from the simulator's parts (one package per model)."""
