"""Paths shared by the DAG tests (importable by name, unlike conftest)."""

from pathlib import Path

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
