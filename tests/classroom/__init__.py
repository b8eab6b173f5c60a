"""Tests of the class store (classroom/), on SQLite and on a PostgreSQL the tests start."""
import pytest

from classroom import REFUSALS, Refused


def refused(kind: str, call, *args, **kwargs) -> Refused:
    """Call, expecting a refusal of `kind` (one of classroom.REFUSALS); the Refused."""
    with pytest.raises(Refused) as caught:
        call(*args, **kwargs)
    assert caught.value.kind == kind, caught.value
    assert caught.value.kind in REFUSALS
    return caught.value
