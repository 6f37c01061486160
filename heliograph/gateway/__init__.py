"""The client API gateway: HTTP and WebSocket over one method table. Parses, authenticates,
calls a service, encodes. No business rules live here."""
