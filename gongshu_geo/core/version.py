"""The package version, in one place (the front door and the CLI read it here)."""

__version__ = "0.1.0"
