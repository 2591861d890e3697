"""Error types users see. Each message says what went wrong, where, and what to do."""

from __future__ import annotations


class HaizhouError(Exception):
    """Base of every error Haizhou reports to a user as one clear line (never a traceback)."""


class InputError(HaizhouError):
    """Bad input: a file, a row, a column or a value the user gave."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file, self.row, self.column = file, row, column
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class NotFittedError(HaizhouError, AttributeError):
    """An estimator was used before ``fit``."""
