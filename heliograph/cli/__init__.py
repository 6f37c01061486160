"""The `heliograph` command: server, administration, and the command-line client."""
