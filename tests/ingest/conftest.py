"""Ingestion tests; the `con` fixture (a real DuckDB warehouse file with the schema) is in tests/conftest.py."""
