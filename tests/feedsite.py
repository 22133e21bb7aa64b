"""A fake news site for feed tests: real-looking article pages and an RSS feed that honours conditional GET."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from index.errors import HostNotFoundError


async def local_resolver(host: str, port: int) -> list[str]:
    """Only the test server's name resolves (to 127.0.0.1): no real DNS lookups in tests."""
    if host == "localhost":
        return ["127.0.0.1"]
    raise HostNotFoundError(f"I couldn't find the site {host}")


@dataclass(frozen=True)
class Story:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    summary: str = ""


STORIES = {
    "tram": Story(
        "tram",
        "City council approves new tram line",
        (
            "The city council voted on Tuesday to approve a new tram line linking the northern suburbs to the city "
            "centre, ending a decade-long debate over the future of public transport in the region.",
            "The line, which will run for 14 kilometres and serve 22 stops, is expected to cost 480 million euros "
            "and open to passengers in 2029. Construction is due to begin next spring once permits are granted.",
            "Opponents argued that the money would be better spent on expanding the existing bus network.",
        ),
        datetime(2024, 3, 12, 9, 30, tzinfo=UTC),
        "Councillors backed the tram.",
    ),
    "bridge": Story(
        "bridge",
        "Old river bridge to close for repairs",
        (
            "The historic stone bridge over the river will close to all traffic for eighteen months from June, "
            "engineers announced on Wednesday after an inspection found cracks in two of its arches.",
            "Cyclists and pedestrians will be diverted over a temporary pontoon crossing, while drivers face a "
            "detour of several kilometres through the industrial estate on the eastern bank.",
            "Shop owners near the bridge fear that the closure will keep customers away during the summer.",
        ),
        datetime(2024, 3, 13, 8, 0, tzinfo=UTC),
        "The bridge closes in June.",
    ),
    "museum": Story(
        "museum",
        "Museum unveils restored medieval tapestry",
        (
            "The national museum unveiled a restored medieval tapestry on Thursday after a painstaking eight-year "
            "conservation project carried out by a team of eleven textile specialists.",
            "The tapestry, woven around 1420, shows a royal hunting party and had been badly damaged by damp and "
            "moths while stored in a castle cellar for most of the twentieth century.",
            'Curator Elena Marsh said the restorers had replaced no original thread. "Every stitch you see is six '
            'hundred years old," Marsh said.',
        ),
        datetime(2024, 3, 14, 10, 0, tzinfo=UTC),
        "A zebra-striped summary that must never be indexed as the article.",
    ),
    "harbour": Story(
        "harbour",
        "Harbour cranes replaced with electric models",
        (
            "The port authority has begun replacing its ageing diesel cranes with electric models, a change it "
            "says will cut the harbour's emissions by a third by the end of the decade.",
            "The first four cranes arrived by ship from Rotterdam last week and will be assembled on the quay "
            "over the coming months before entering service in the autumn.",
            "Dock workers' unions welcomed the quieter machines but asked for retraining for crane operators.",
        ),
        datetime(2024, 3, 15, 7, 0, tzinfo=UTC),
    ),
    "library": Story(
        "library",
        "Central library extends its opening hours",
        (
            "The central library will open until ten in the evening on weekdays from next month, the city's "
            "culture department said, after a survey found students struggled to find quiet places to study.",
            "The longer hours will be staffed by volunteers and funded from the savings of a new energy contract, "
            "so no new money is needed, according to the department's spokesperson.",
            "Weekend hours stay unchanged for now, but may be extended later in the year.",
        ),
        datetime(2024, 3, 16, 7, 0, tzinfo=UTC),
    ),
}


def article_html(story: Story, *, site: str = "The Daily Example") -> str:
    """A news page with navigation, ads and a footer around the article, as real sites serve them."""
    body = "".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(story.title)} | {site}</title>
<meta property="og:title" content="{escape(story.title)}">
<meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="{story.published.isoformat()}">
</head><body>
<div id="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li>
<li><a href="/login">Sign in</a></li></ul></nav></header>
<div class="ad-banner">Advertisement: Subscribe now for 50% off.</div>
<main><article><h1>{escape(story.title)}</h1><p class="byline">By Staff Reporter</p>{body}</article></main>
<aside class="related"><h3>Related stories</h3><ul><li><a href="/a">Bus fares to rise</a></li></ul></aside>
<footer><p>&copy; 2024 {site}. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""


@dataclass
class FeedSite:
    """An RSS feed plus its article pages on a local server; the feed changes when stories are added.

    ``etag`` / ``last_modified`` choose which validators the feed sends; a matching
    ``If-None-Match`` or ``If-Modified-Since`` gets a 304. ``responses`` records the status of
    every feed response, ``page_status`` overrides the status of an article page, and
    ``pub_dates`` the ``<pubDate>`` text of a story (to serve broken dates). ``generated``
    appends that many small entries, older than every story, so a feed can be made as large
    as a real archive feed (one had 65,000 entries); their pages are not served.
    """

    server: HTTPServer
    path: str = "/feed.xml"
    stories: list[Story] = field(default_factory=list)
    etag: bool = True
    last_modified: bool = True
    version: int = 1
    responses: list[int] = field(default_factory=list)
    page_status: dict[str, int] = field(default_factory=dict)
    page_hits: dict[str, int] = field(default_factory=dict)
    pub_dates: dict[str, str] = field(default_factory=dict)
    generated: int = 0

    def __post_init__(self) -> None:
        self.server.expect_request(self.path).respond_with_handler(self.feed_response)

    @property
    def url(self) -> str:
        return self.server.url_for(self.path)

    def link(self, story: Story) -> str:
        return self.server.url_for(f"/news/{story.slug}") + "?utm_source=rss"

    def add(self, *stories: Story) -> None:
        """Publish stories: newest first in the feed, and their pages served."""
        for story in stories:
            self.stories.insert(0, story)
            self.server.expect_request(f"/news/{story.slug}").respond_with_handler(self._page_handler(story))
        self.version += 1

    def _page_handler(self, story: Story):  # type: ignore[no-untyped-def]
        def handler(_request: Request) -> Response:
            self.page_hits[story.slug] = self.page_hits.get(story.slug, 0) + 1
            status = self.page_status.get(story.slug, 200)
            if status != 200:
                return Response("error", status=status, content_type="text/plain")
            return Response(article_html(story), content_type="text/html; charset=utf-8")

        return handler

    @property
    def tag(self) -> str:
        return f'"v{self.version}"'

    @property
    def modified(self) -> str:
        return format_datetime(datetime(2024, 3, 1, tzinfo=UTC) + timedelta(hours=self.version), usegmt=True)

    def pub_date(self, story: Story) -> str:
        return self.pub_dates.get(story.slug) or format_datetime(story.published, usegmt=True)

    def generated_items(self) -> str:
        """``generated`` minimal entries, one minute apart, the newest a day before the oldest story."""
        newest = min((s.published for s in self.stories), default=datetime(2024, 3, 1, tzinfo=UTC))
        base = self.server.url_for("/gen/")
        return "".join(
            f"<item><guid>g{i}</guid><link>{base}{i}</link>"
            f"<pubDate>{format_datetime(newest - timedelta(days=1, minutes=i), usegmt=True)}</pubDate></item>"
            for i in range(self.generated)
        )

    def rss(self) -> str:
        items = (
            "".join(
                f"<item><title>{escape(s.title)}</title><link>{escape(self.link(s))}</link>"
                f'<guid isPermaLink="false">story-{s.slug}</guid>'
                f"<pubDate>{escape(self.pub_date(s))}</pubDate>"
                f"<description>{escape(s.summary)}</description></item>"
                for s in self.stories
            )
            + self.generated_items()
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>The Daily Example</title>'
            f"<link>{self.server.url_for('/')}</link><description>Top stories</description>{items}</channel></rss>"
        )

    def feed_response(self, request: Request) -> Response:
        headers = {}
        if self.etag:
            headers["ETag"] = self.tag
        if self.last_modified:
            headers["Last-Modified"] = self.modified
        fresh = (self.etag and request.headers.get("If-None-Match") == self.tag) or (
            not self.etag and self.last_modified and request.headers.get("If-Modified-Since") == self.modified
        )
        status = 304 if fresh else 200
        self.responses.append(status)
        if fresh:
            return Response(status=304, headers=headers)
        return Response(self.rss(), content_type="application/rss+xml; charset=utf-8", headers=headers)

    def feed_requests(self) -> list[Request]:
        return [request for request, _ in self.server.log if request.path == self.path]
