"""API routers, one module per capability; :mod:`haizhou.api.router` mounts them under /api."""
