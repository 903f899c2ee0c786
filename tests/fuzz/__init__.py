"""The fuzz suite: hostile and broken input through the plugin as users run it (see README.md)."""
