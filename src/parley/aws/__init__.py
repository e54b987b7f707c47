"""The AWS wire edges: restJson1 for Connect and the Participant Service, JSON 1.0 for the CTI API."""
