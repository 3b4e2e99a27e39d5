"""A failed script's run error (agent/tracebacks.script_error): its exception, or how it ended and why."""

from __future__ import annotations

import signal

from jupyter_aml.agent.tracebacks import script_error

TRACEBACK = ["Traceback (most recent call last):", '  File "/wd/train.py", line 2, in <module>',
             "    1 / 0", "ZeroDivisionError: division by zero"]


def test_an_exception_is_the_headline_with_the_process_named():
    error = script_error("process rank 1 (node 0) exited with code 1", 1, TRACEBACK, ["/wd"],
                         who="process rank 1 (node 0): ")
    assert error["message"] == "process rank 1 (node 0): ZeroDivisionError: division by zero at train.py:2 in <module>"
    assert error["exception_type"] == "ZeroDivisionError"
    assert error["details"] == "\n".join(TRACEBACK)


def test_an_abort_says_what_the_process_printed_before_it():
    tail = ["rank 0: 3.0", "terminate called without an active exception", ""]
    error = script_error("script was killed by signal SIGABRT", -signal.SIGABRT, tail)
    assert error["message"] == "script was killed by signal SIGABRT: terminate called without an active exception"
    assert "exception_type" not in error


def test_other_endings_keep_their_plain_message():
    tail = ["epoch 3 loss 0.2"]  # the last log line says nothing about an out-of-memory kill
    assert script_error("script was killed by signal SIGKILL", -signal.SIGKILL, tail)["message"] == \
        "script was killed by signal SIGKILL"
    assert script_error("script exited with code 3", 3, tail)["message"] == "script exited with code 3"
    assert script_error("script was killed by signal SIGABRT", -signal.SIGABRT, [])["message"] == \
        "script was killed by signal SIGABRT"
