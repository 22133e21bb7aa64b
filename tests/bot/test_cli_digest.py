"""``newsdesk digest``: JSON and text output, terminal safety, bad windows; fast ones on the fake encoder."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import cli
from bot.cli_digest import run_digest
from bot.terminal import one_line
from index.models import RawArticle
from retrieval.errors import BadQuestionError
from tests.digest_news import NOW, SERVER, Desk, Item, make_desk


def digest(desk: Desk, *argv: str) -> int:
    """Run ``newsdesk digest ARGV`` on the fake-encoder index at ``NOW``."""
    return run_digest(cli._parser().parse_args(["digest", *argv]), desk.engine, now=NOW)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return make_desk(tmp_path)


def test_json_shape(desk: Desk, capsys: pytest.CaptureFixture[str]):
    """should print since, until and the stories with verbatim citations in the ask shape."""
    assert digest(desk, "--since", "24h", "--collection", SERVER, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["since", "until", "stories"]
    assert out["since"] == "2025-03-19T12:00:00+00:00" and out["until"] == "2025-03-20T12:00:00+00:00"
    first = out["stories"][0]
    assert sorted(first["sources"]) == ["AP", "BBC", "Reuters"] and len(first["article_ids"]) == 3
    articles = desk.engine.store.articles(first["article_ids"])
    for c in first["citations"]:
        assert articles[c["article_id"]].text[c["start"] : c["end"]] == c["quote"]
    assert first["summary"] == " ".join(c["quote"] for c in first["citations"])


def test_text_lists_stories_with_sources_and_quotes(desk: Desk, capsys: pytest.CaptureFixture[str]):
    """should print a header, then each story's title, outlets, quotes and ids."""
    assert digest(desk, "--since", "24h", "--limit", "2") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2 stories from 8 articles, 2025-03-19 12:00 to 2025-03-20 12:00 UTC"
    assert lines[2].startswith("1. ") and "Cyclone Pam" in lines[2]
    assert lines[3].startswith("   ") and "3 articles · latest 2025-03-20 09:00 UTC" in lines[3]
    assert lines[4].startswith("   > ") and lines[4].endswith(" [1]")
    assert any(line.startswith("2. ") for line in lines)


def test_quiet_window_prints_one_line(desk: Desk, capsys: pytest.CaptureFixture[str]):
    """should say in one line that nothing happened, for a window or a topic with no story."""
    assert digest(desk, "--since", "24h", "--topic", "volcano in Iceland") == 0
    assert capsys.readouterr().out == "No new stories on 'volcano in Iceland' since 2025-03-19 12:00 UTC.\n"


def test_stored_control_characters_are_escaped(desk: Desk, capsys: pytest.CaptureFixture[str]):
    """should never write an article's escape sequences or bidi overrides raw to the terminal.

    Cleaning drops control characters from what is stored; the bidi override stays in the text and is escaped.
    """
    text = "Hackers sent \x1b[2J\x1b[31m a message to the city council on Monday about \u202eits servers today."
    desk.engine.ingest(
        [
            RawArticle(
                title="Council \x1b]0;owned\x07 hacked",
                text=text,
                source="Ev\x1bil",
                published=NOW - timedelta(minutes=30),
            )
        ],
        collection=SERVER,
    )
    assert digest(desk, "--since", "2h") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "Council ]0;owned hacked" in out and "Hackers sent [2J[31m a message" in out and "\\u202eits" in out
    assert "Evil" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "soonish"], "as a time"),
        (["--since", "2030-01-01"], "in the future"),
        (["--since", "2023-01-01"], "longer than a year"),
        (["--since", "yesterday", "--until", "2025-03-01"], "ends before it starts"),
        (["--since", "24h", "--limit", "0"], "--limit"),
    ],
)
def test_bad_input_is_a_usage_error(desk: Desk, argv: list[str], message: str):
    """should refuse a bad window or limit with a message (the CLI exits 2 on BadQuestionError)."""
    with pytest.raises(BadQuestionError, match=message):
        digest(desk, *argv)


def test_one_line_keeps_text_and_escapes_the_rest():
    """should fold whitespace, keep accents and punctuation, and escape control and format characters."""
    assert one_line("  Café —\n\t“quoted”\u200b\u202e\x00 ") == "Café — “quoted”\\u200b\\u202e\\u0000"


@pytest.mark.slow
def test_main_exits_2_on_a_bad_window_and_prints_a_digest(
    tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """should exit 2 with a message, no traceback, for a bad window, and 0 with JSON for a good one."""
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_CACHE_DIR", str(model_cache))
    now = datetime.now(UTC)
    news = tmp_path / "news.jsonl"
    items = [
        Item("Storm hits the coast", "A storm hit the coast on Monday and thousands of homes lost power.", "A", 2),
        Item(
            "Coast storm cuts power", "Thousands of homes on the coast lost power when a storm hit on Monday.", "B", 1
        ),
    ]
    news.write_text(
        "".join(
            json.dumps(
                {
                    "title": i.title,
                    "text": i.text,
                    "source": i.source,
                    "url": f"https://{i.source}.test/storm",
                    "published": (now - timedelta(hours=i.hours_ago or 0)).isoformat(),
                }
            )
            + "\n"
            for i in items
        )
    )
    assert cli.main(["ingest", str(news)]) == 0
    capsys.readouterr()
    assert cli.main(["digest", "--since", "next year"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("newsdesk: I can't read 'next year' as a time") and "Traceback" not in err
    assert cli.main(["digest", "--since", "24h", "--json"]) == 0
    stories = json.loads(capsys.readouterr().out)["stories"]
    assert [sorted(s["sources"]) for s in stories] == [["A", "B"]]
