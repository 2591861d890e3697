"""`haizhou importing` (to be written)."""

from __future__ import annotations

import typer

app = typer.Typer(help="importing", no_args_is_help=True)
