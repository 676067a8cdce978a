"""The shared helpers: atomic files, flock locks and the transaction block."""

from __future__ import annotations

import multiprocessing
import os
import time

import duckdb
import pytest

from pipeline.files import LockBusy, atomic_write, file_lock
from pipeline.transaction import transaction


def test_atomic_write_replaces_the_whole_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "tokens.json"
    atomic_write(target, "old")
    atomic_write(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert [p.name for p in target.parent.iterdir()] == ["tokens.json"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o600)


def test_atomic_write_that_fails_keeps_the_old_file(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write(target, "kept")
    with pytest.raises(TypeError):
        atomic_write(target, 12345)  # type: ignore[arg-type]
    assert target.read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def _hold(path: str, seconds: float, ready) -> None:
    with file_lock(path):
        ready.set()
        time.sleep(seconds)


def test_a_held_lock_makes_a_second_taker_wait_then_give_up_with_the_message(tmp_path):
    lock = tmp_path / "w.lock"
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(lock), 3.0, ready))
    holder.start()
    try:
        assert ready.wait(20)
        t0 = time.monotonic()
        with pytest.raises(LockBusy, match="busy writing"), file_lock(lock, wait_s=0.5, busy_message="busy writing"):
            pass
        assert time.monotonic() - t0 >= 0.5
    finally:
        holder.join(20)
    with file_lock(lock, wait_s=1):  # released when the holder ended
        pass


def test_a_killed_holder_releases_the_lock(tmp_path):
    lock = tmp_path / "w.lock"
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(lock), 60.0, ready))
    holder.start()
    assert ready.wait(20)
    os.kill(holder.pid, 9)
    holder.join(20)
    with file_lock(lock, wait_s=5):
        pass


def test_transaction_commits_on_success_and_rolls_back_on_error():
    con = duckdb.connect()
    con.execute("create table t (x int)")
    with transaction(con):
        con.execute("insert into t values (1)")
    with pytest.raises(ZeroDivisionError), transaction(con):
        con.execute("insert into t values (2)")
        raise ZeroDivisionError
    assert con.execute("select list(x) from t").fetchone()[0] == [1]
    with transaction(con):  # the connection is usable again
        con.execute("insert into t values (3)")
    assert con.execute("select list(x order by x) from t").fetchone()[0] == [1, 3]
