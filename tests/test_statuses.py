"""The stdlib status list and the core's enum are one list."""

from jupyter_aml import statuses
from jupyter_aml.core import models


def test_enum_and_stdlib_list_agree() -> None:
    assert tuple(s.value for s in models.RunStatus) == statuses.RUN_STATUSES
    assert {s.value for s in models.TERMINAL_STATUSES} == statuses.TERMINAL_STATUSES
    assert statuses.is_terminal(models.RunStatus.CANCELED)
    assert not statuses.is_terminal(models.RunStatus.NOT_RESPONDING)
