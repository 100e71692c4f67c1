"""The benchmark script's own bookkeeping (its timings are benchmarks, not tests)."""
from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def run():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_run", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(("machine_busy", "own", "share"), [(40.0, 40.0, 0.0), (100.0, 40.0, 0.3),
                                                            (240.0, 40.0, 1.0), (30.0, 40.0, 0.0)])
def test_the_share_of_the_cpu_other_processes_took_is_the_machine_s_busy_time_less_the_run_s(
        run, monkeypatch, machine_busy, own, share):
    """Over 100 s of a 2-core machine: busy 100 s of which the run's own 40 s is 30 % taken by
    others; never below 0 or above 1 (the two counters are read at slightly different times)."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(run, "_busy_seconds", lambda: 1000.0 + machine_busy)
    monkeypatch.setattr(run, "_own_seconds", lambda: 5.0 + own)
    start = (1000.0, 5.0, time.monotonic() - 100.0)
    assert run.others_share(start) == pytest.approx(share, abs=1e-3)


def test_a_result_file_s_machine_line_flags_timings_taken_beside_another_job(run, monkeypatch):
    monkeypatch.setattr(run, "others_share", lambda: 0.42)
    assert "other processes used 42% of its CPU" in run.machine()
    assert "timings shared the machine" in run.machine()
    monkeypatch.setattr(run, "others_share", lambda: 0.01)
    assert "timings shared" not in run.machine()
    monkeypatch.setattr(run, "others_share", lambda: None)
    assert "not measured" in run.machine()


def test_the_machine_s_busy_seconds_grow_with_work_on_linux(run):
    if not Path("/proc/stat").exists():
        pytest.skip("no /proc/stat")
    a = run._busy_seconds()
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        pass
    assert run._busy_seconds() > a
