"""What the build says of a page that failed: the cell's own exception, read from jupyter-book's
output, not a line of the machinery around it (Sphinx's "Exception occurred:", nbclient's wrapper
of a cell's error), except where nbclient's exception is the reason (a cell that timed out, a
kernel that died)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.report.build import page_failure

ROOT = Path("/srv/ruralgov")
HEAD = f"{ROOT}/book/determinants.md: WARNING: Executing notebook failed: {{kind}} [mystnb.exec]"

TIMEOUT = """Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/myst_nb/core/execute/direct.py", line 40, in execute
Exception occurred:
  File "/venv/lib/python3.11/site-packages/nbclient/client.py", line 801, in _async_poll_for_reply
nbclient.exceptions.CellTimeoutError: A cell timed out while it was being executed, after 4 seconds.
The message was: Cell execution timed out.
Exception occurred:"""

CELL_ERROR = """Traceback (most recent call last):
nbclient.exceptions.CellExecutionError: An error occurred while executing the following cell:
------------------
1 / 0
------------------
ZeroDivisionError                         Traceback (most recent call last)
ZeroDivisionError: division by zero
Exception occurred:"""


def _read(kind: str, body: str) -> dict[str, str]:
    failed: dict[str, str] = {}
    pending = None
    for line in [HEAD.format(kind=kind), *body.splitlines()]:
        pending = page_failure(line.strip(), ROOT, failed, pending)
    return failed


@pytest.mark.parametrize("kind, body, why", [
    ("CellTimeoutError", TIMEOUT,
     "nbclient.exceptions.CellTimeoutError: A cell timed out while it was being executed, after 4 seconds."),
    ("CellExecutionError", CELL_ERROR, "ZeroDivisionError: division by zero"),
    ("DeadKernelError", "Exception occurred:\nnbclient.exceptions.DeadKernelError: Kernel died\nException occurred:",
     "nbclient.exceptions.DeadKernelError: Kernel died"),
])
def test_a_failed_page_is_said_to_fail_for_its_cell_s_own_reason(kind, body, why):
    assert _read(kind, body) == {"book/determinants.md": why}


def test_a_warning_that_is_no_execution_failure_awaits_no_traceback():
    failed: dict[str, str] = {}
    pending = page_failure(f"{ROOT}/book/intro.md:12: WARNING: undefined label: 'x'", ROOT, failed, None)
    assert pending is None and failed == {"book/intro.md": "undefined label: 'x'"}
    assert page_failure("ValueError: later and elsewhere", ROOT, failed, pending) is None
    assert failed == {"book/intro.md": "undefined label: 'x'"}
