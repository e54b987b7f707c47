"""Pure domain rules of Parley: entities, limits and errors, with no I/O and no AWS wire names."""
