"""Scanning content/: its Markdown and data files; symlinks, odd names and stray files are reported."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from .files import IMAGE
from .items import Report

DATA_FILES = {"site.yaml", "streets.yaml", "people.yaml", "sources.yaml"}
IGNORED_ROOT_FILES = {"README.md", "LICENSE", "LICENSE.md"}


def scan_tree(root: Path, report: Report) -> tuple[list[str], list[str]]:
    """Markdown files and data files under the root, as paths inside it, in a stable order."""
    markdown, data = [], []
    if not root.is_dir():
        report.reject(str(root), "不是一个文件夹")
        return markdown, data
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        for name in sorted(dirnames):
            rel = posixpath.join(rel_dir, name)
            full = Path(dirpath) / name
            if not _utf8_name(name):
                report.reject(_shown(rel), "文件夹名不是 UTF-8 编码（常见于 Windows 上制作的压缩包）：请改名")
                dirnames.remove(name)
            elif name.startswith("."):
                report.ignored.append(f"{rel}/（隐藏文件夹）")
                dirnames.remove(name)
            elif name.startswith("_"):
                report.ignored.append(f"{rel}/（以 _ 开头）")
                dirnames.remove(name)
            elif full.is_symlink():
                report.reject(rel, "是符号链接：出于安全考虑不跟随，请放入真实的文件夹")
                dirnames.remove(name)
            elif name.endswith(".md"):
                report.reject(rel, "是一个文件夹，却以 .md 结尾：请改名")
                dirnames.remove(name)
        dirnames.sort()
        for name in sorted(filenames):
            rel = posixpath.join(rel_dir, name)
            full = Path(dirpath) / name
            if not _utf8_name(name):
                report.reject(_shown(rel), "文件名不是 UTF-8 编码（常见于 Windows 上制作的压缩包）：请改名")
            elif name.startswith("."):
                report.ignored.append(f"{rel}（隐藏文件）")
            elif full.is_symlink():
                if name.endswith((".md", ".yaml", ".yml")) or Path(name).suffix.lower() in IMAGE.suffixes:
                    report.reject(rel, "是符号链接：出于安全考虑不读取，请放入真实的文件")
            elif not full.is_file():
                report.reject(rel, "不是普通文件")
            elif not rel_dir and name in DATA_FILES:
                data.append(rel)
            elif not rel_dir and name in IGNORED_ROOT_FILES:
                continue
            elif name.endswith(".md"):
                if name.startswith("_") and name != "_index.md":
                    report.ignored.append(f"{rel}（以 _ 开头）")
                else:
                    markdown.append(rel)
            elif name.endswith((".yaml", ".yml")):
                report.reject(rel, "不认识的数据文件（可用：site.yaml、streets.yaml、people.yaml、sources.yaml）")
    return markdown, data


def _utf8_name(name: str) -> bool:
    """False for a file name whose bytes are not UTF-8 (os.walk hands those back with surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(rel: str) -> str:
    """A path that can be printed and stored: undecodable bytes as \\xNN."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")
