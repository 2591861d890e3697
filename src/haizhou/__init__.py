"""Haizhou (海州): an open platform for data-driven public safety."""

__version__ = "0.1.0"
