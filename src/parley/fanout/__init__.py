"""Fan-out adapters: the bus that carries pokes between nodes and the hub that feeds sockets."""
