"""What every command shares: settings from the context, JSON output, one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from haizhou.errors import HaizhouError
from haizhou.settings import Settings, SettingsError, load_settings

console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


def get_settings(ctx: typer.Context) -> Settings:
    """Settings for this invocation, built once from the root options and the environment."""
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    if "settings" not in obj:
        obj["settings"] = load_settings(
            obj.get("config"), data_dir=obj.get("data_dir"), database_url=obj.get("database_url")
        )
        root.obj = obj
    return obj["settings"]


def get_pseudonymiser(ctx: typer.Context) -> Any:
    """The bureau's :class:`~haizhou.security.pseudonym.Pseudonymiser` (its key from the
    settings, or made once in the data folder)."""
    from haizhou.security.pseudonym import Pseudonymiser, load_or_create_key

    settings = get_settings(ctx)
    return Pseudonymiser(load_or_create_key(settings.data_dir, settings.pseudonym_key))


def print_json(value: Any) -> None:
    """One JSON document on stdout, UTF-8, non-ASCII kept readable."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")


def fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]Error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Haizhou's own errors into one clear line and exit code 1, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (HaizhouError, SettingsError) as exc:
            fail(str(exc))
        except FileNotFoundError as exc:
            fail(f"file not found: {exc.filename or exc}")
        except PermissionError as exc:
            fail(f"permission denied: {exc.filename or exc}")
        raise AssertionError("unreachable")

    return wrapper


def existing_file(path: Path) -> Path:
    if not path.exists():
        raise HaizhouError(f"{path} does not exist; check the path.")
    if path.is_dir():
        raise HaizhouError(f"{path} is a folder; give a file.")
    return path
