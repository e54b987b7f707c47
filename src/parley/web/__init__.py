"""The web edge: health, pages and websockets served beside the AWS APIs."""
