"""The `challenge` command and the embedded platform."""
