"""Pydantic schemas at the API boundary, one module per capability (``<Name>Public`` etc.)."""
