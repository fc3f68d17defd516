"""Problems found in content files, reported with the file, the line or field, and the reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return f"{where}: {self.message}"


class FileRejected(Exception):
    """Raised inside the reader for a problem that stops the whole file."""

    def __init__(self, message: str, line: int | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.field = field


class Rejections(Exception):
    """Several problems of one field at once (every bad item of a list), each a FileRejected."""

    def __init__(self, problems: list[FileRejected]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems
