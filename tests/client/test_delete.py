"""Deleting sessions through the client (`QagenClient.delete_session`) and the CLI (`qagen delete`)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qagen.cli import main
from qagen.client import NotFoundError

QUIZ = b"Quiz\n1. Define velocity. [1]\n"


def test_delete_session_removes_it_and_a_second_delete_is_not_found(qagen):
    job = qagen.upload(QUIZ, "quiz.txt")
    assert qagen.wait(job.session_id, timeout=120).complete

    qagen.delete_session(job.session_id)

    with pytest.raises(NotFoundError):
        qagen.status(job.session_id)
    with pytest.raises(NotFoundError):
        qagen.delete_session(job.session_id)


def test_qagen_delete_deletes_each_session_named(qagen, stack, client_key):
    first, second = (qagen.upload(QUIZ, "quiz.txt").session_id for _ in range(2))
    env = {"QAGEN_API_URL": stack.layout.api_url, "QAGEN_API_KEY": client_key}

    result = CliRunner().invoke(main, ["delete", first, second], env=env, catch_exceptions=False)
    again = CliRunner().invoke(main, ["delete", first], env=env, catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"Deleted {first}.\nDeleted {second}.\n"
    assert again.exit_code == 1 and "404 not_found" in again.output
    for session_id in (first, second):
        with pytest.raises(NotFoundError):
            qagen.status(session_id)
