"""Media: the object store, the type and size rules, signed download URLs."""
