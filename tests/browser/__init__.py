"""Tests in headless Chromium, where a person would look (pytest -m browser)."""
