"""``newsdesk feeds`` end to end on the real model, against a local news site."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from bot import cli
from bot.cli_feeds import EXIT_FAILED, EXIT_NO_FEED, add_feeds_parser, run_feeds
from tests.feedsite import STORIES, FeedSite

pytestmark = pytest.mark.slow


def _wired() -> bool:
    """Whether ``bot.cli`` already registers ``feeds`` (until then the tests call ``run_feeds`` directly)."""
    try:
        return cli._parser().parse_args(["feeds", "list"]).command == "feeds"
    except SystemExit:
        return False


def newsdesk(*argv: str) -> int:
    """Run ``newsdesk feeds ...`` (or any command) as the console script would."""
    if argv[0] != "feeds" or _wired():
        return cli.main(list(argv))
    from app.engine import Engine
    from bot.settings import get_settings

    parser = argparse.ArgumentParser(prog="newsdesk")
    add_feeds_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    settings = get_settings()
    engine = Engine(settings.engine_config())
    try:
        return run_feeds(args, engine, settings)
    finally:
        engine.close()


@pytest.fixture
def data_dir(tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("NEWSDESK_ALLOW_PRIVATE_URLS", "1")
    return tmp_path / "data"


@pytest.fixture
def site(httpserver: HTTPServer) -> FeedSite:
    site = FeedSite(httpserver)
    site.add(STORIES["tram"], STORIES["bridge"])
    return site


def test_follow_poll_answer_and_unfollow(data_dir: Path, site: FeedSite, capsys: pytest.CaptureFixture[str]) -> None:
    """should follow a feed, ingest its backlog, pick up a new story once, answer from it, then 304."""
    assert newsdesk("feeds", "add", site.url) == 0
    assert "following feed 1: The Daily Example (collection global)" in capsys.readouterr().out
    assert newsdesk("feeds", "add", site.url + "?utm_source=x") == 0
    assert "already following this feed as 1" in capsys.readouterr().out

    assert newsdesk("feeds", "poll") == 0
    assert "2 new (backlog)" in capsys.readouterr().out
    site.add(STORIES["museum"])
    assert newsdesk("feeds", "poll") == 0
    assert "no feed is due" in capsys.readouterr().out
    assert newsdesk("feeds", "poll", "--all") == 0
    out = capsys.readouterr().out
    assert ": 1 new" in out and STORIES["museum"].title in out

    assert newsdesk("ask", "What did the curator say about the restored tapestry?", "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["answered"] and answer["citations"][0]["url"] == site.server.url_for("/news/museum")
    assert "Marsh" in answer["answer"]

    assert newsdesk("feeds", "poll", "--all") == 0
    assert "not modified" in capsys.readouterr().out
    assert site.responses[-1] == 304 and site.feed_requests()[-1].headers["If-None-Match"] == site.tag

    assert newsdesk("feeds", "list", "--json") == 0
    [feed] = json.loads(capsys.readouterr().out)
    assert (feed["id"], feed["title"], feed["collection"], feed["failures"]) == (1, "The Daily Example", "global", 0)
    assert newsdesk("feeds", "remove", "1") == 0
    assert "unfollowed feed 1" in capsys.readouterr().out
    assert newsdesk("feeds", "remove", "1") == EXIT_NO_FEED
    assert "no feed with id 1" in capsys.readouterr().err
    assert newsdesk("feeds", "list") == 0
    assert "no feeds followed" in capsys.readouterr().out


def test_add_refuses_what_is_not_a_feed(
    data_dir: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """should exit 1 with a short reason for a 404 or an HTML page, and follow nothing."""
    httpserver.expect_request("/missing.xml").respond_with_data("gone", status=404)
    httpserver.expect_request("/page").respond_with_data("<html><body><p>Hello</p></body></html>",
                                                         content_type="text/html")  # fmt: skip
    assert newsdesk("feeds", "add", httpserver.url_for("/missing.xml")) == EXIT_FAILED
    assert "cannot follow" in (err := capsys.readouterr().err) and "not found (404)" in err
    assert newsdesk("feeds", "add", httpserver.url_for("/page")) == EXIT_FAILED
    assert "doesn't look like an RSS or Atom feed" in capsys.readouterr().err
    assert newsdesk("feeds", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_broken_feed_is_reported_and_backs_off(
    data_dir: Path, site: FeedSite, capsys: pytest.CaptureFixture[str]
) -> None:
    """should report a feed that broke after it was added, exit 1, and show the error in the list."""
    assert newsdesk("feeds", "add", site.url, "--collection", "111") == 0
    site.server.clear_all_handlers()
    site.server.expect_request(site.path).respond_with_data("oops", status=500)
    assert newsdesk("feeds", "poll") == EXIT_FAILED
    assert "FAILED: the site had an error (500)" in capsys.readouterr().out
    assert newsdesk("feeds", "poll") == 0  # backing off: not due again yet
    assert newsdesk("feeds", "list", "--collection", "111") == 0
    out = capsys.readouterr().out
    assert "1 failures in a row, last error: the site had an error (500)" in out
    assert newsdesk("feeds", "list", "--collection", "222") == 0
    assert "no feeds followed" in capsys.readouterr().out


def test_a_cli_poll_queues_announcements_for_the_bot(
    data_dir: Path, site: FeedSite, capsys: pytest.CaptureFixture[str]
) -> None:
    """should put a channel's new articles (not the backlog) in the outbox that bot processes post from."""
    from index.announcements import Outbox
    from index.feedstore import FeedStore
    from index.store import Store

    store = Store(data_dir)
    FeedStore(store).add(site.url, collection="77", channel_id=555)
    assert newsdesk("feeds", "poll") == 0
    assert "announcement" not in capsys.readouterr().out  # the backlog is never announced
    site.add(STORIES["museum"])
    assert newsdesk("feeds", "poll", "--all") == 0
    assert "1 announcement queued: the bot posts them to the feeds' channels" in capsys.readouterr().out
    [queued] = Outbox(store).claim("test", limit=10)
    assert queued.channel_id == 555
    store.close()
