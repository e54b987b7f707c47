"""The fuzz suite: hypothesis over the AWS shapes, malformed requests and websocket frames."""
