"""Airflow for the DAG tests: a throwaway AIRFLOW_HOME, our dags/ folder, no examples."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from dags_support import DAGS_DIR

# Before anything imports airflow (its configuration is read at import time). Always a
# throwaway home: never migrate or write into an AIRFLOW_HOME the developer has exported.
_home = Path(tempfile.mkdtemp(prefix="backstride-airflow-"))
atexit.register(shutil.rmtree, _home, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = str(_home)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "false"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_DIR)
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "false")
os.environ["GX_ANALYTICS_ENABLED"] = "false"
