from __future__ import annotations

import json

import pytest

from retrieval.llm.errors import LlmReplyError
from retrieval.llm.schema import REPLY_SCHEMA, ModelSentence, complete_sentences, parse_reply

STRUCTURED = {"sentences": [{"text": 'Berg said "we" left.', "passages": [1], "quote": "we"}]}


def test_schema_is_strict_and_self_contained():
    """should send a schema with every property required, no extra ones, and no $refs to resolve."""
    item = REPLY_SCHEMA["properties"]["sentences"]["items"]
    assert REPLY_SCHEMA["required"] == ["sentences"] and REPLY_SCHEMA["additionalProperties"] is False
    assert item["required"] == ["text", "passages", "quote"] and item["additionalProperties"] is False
    assert "$ref" not in json.dumps(REPLY_SCHEMA) and "$defs" not in REPLY_SCHEMA


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(json.dumps(STRUCTURED), id="json"),
        pytest.param(f"```json\n{json.dumps(STRUCTURED)}\n```", id="fenced"),
        pytest.param(f"Here is the answer: {json.dumps(STRUCTURED)} Hope it helps.", id="inside-prose"),
        pytest.param(json.dumps(STRUCTURED["sentences"]), id="bare-list"),
    ],
)
def test_reads_structured_replies(content: str):
    """should read the JSON answer however the server wrapped it."""
    assert parse_reply(content).sentences == [ModelSentence(text='Berg said "we" left.', passages=[1], quote="we")]


def test_reads_plain_text_replies():
    """should read cited plain sentences when the server ignored the schema."""
    reply = parse_reply('Berg said "we have reached the end of the road". [1]\nThe pier is shut [2][3].')
    assert reply.sentences == [
        ModelSentence(
            text='Berg said "we have reached the end of the road". [1]',
            passages=[1],
            quote="we have reached the end of the road",
        ),
        ModelSentence(text="The pier is shut [2][3].", passages=[2, 3], quote=None),
    ]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param('{"sentences": [{"text": "Berg left", "passages": [1]', id="truncated"),
        pytest.param('{"sentences": "none"}', id="wrong-shape"),
        pytest.param("```json\n{sentences: [}\n```", id="broken-fence"),
        pytest.param("   ", id="empty"),
    ],
)
def test_refuses_broken_json(content: str):
    """should not guess at broken JSON."""
    with pytest.raises(LlmReplyError):
        parse_reply(content)


def test_complete_sentences_of_a_stream():
    """should return the sentences already closed by a later one, and nothing from broken text."""
    first = json.dumps({"text": "One.", "passages": [1], "quote": None})
    assert complete_sentences('{"sentences": [') == []
    assert complete_sentences('{"sentences": [' + first[:-3]) == []
    assert complete_sentences('{"sentences": [' + first + ', {"text": "Tw') == [
        ModelSentence(text="One.", passages=[1])
    ]
    assert complete_sentences("Plain text [1]. More") == []
