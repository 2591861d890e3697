"""`haizhou sim` (to be written)."""

from __future__ import annotations

import typer

app = typer.Typer(help="sim", no_args_is_help=True)
