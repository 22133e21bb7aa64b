"""What users are told when a command fails: one refusal for non-moderators, an apology with an error id."""

from __future__ import annotations

import logging

from bot.errors import report_failure

from .conftest import RecordingResponder


async def test_report_failure_logs_traceback_and_apologises_with_id(responder: RecordingResponder, caplog):
    """should log the traceback under a short hex id and give the user the same id."""
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        error = exc
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        error_id = await report_failure(responder, error, command="ask")
    assert len(error_id) == 8 and int(error_id, 16) >= 0
    [notice] = responder.of("notice")
    assert error_id in notice and notice.startswith("Sorry")
    [record] = caplog.records
    assert error_id in record.getMessage() and record.exc_info is not None and record.exc_info[1] is error
