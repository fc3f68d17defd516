"""`run_import`: validate every file, then write everything in one transaction, or nothing."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError

from cms.core.privacy import PrivacyBlocked
from cms.documents.models import DocumentRefused

from ..errors import Problem
from .items import Report
from .validate import Validation
from .write import Writing


class Importer(Validation, Writing):
    """One import of a content/ folder: `validate()`, then `plan()` and `write()` (see the modules of its parts)."""


def run_import(root: Path, *, publish=False, dry_run=False, budget=5.0, progress=None) -> tuple[Report, dict]:
    importer = Importer(root, publish=publish, budget=budget, progress=progress)
    report = importer.validate()
    if not report.ok:
        return report, {}
    plan = importer.plan()
    if dry_run:
        for key, state in plan.items():
            importer.record(key, state)
        return report, plan
    try:
        importer.write()
    except (ValidationError, IntegrityError, DatabaseError, PrivacyBlocked, DocumentRefused) as exc:
        # Validation should have caught it; if not, the transaction has rolled back and we say why.
        report.rejected.append(Problem(str(root), f"写入数据库时出错，已全部回滚：{_explain(exc)}"))
        report.created.clear(), report.updated.clear(), report.unchanged.clear()
    return importer.report, plan


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return "；".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return str(exc)
