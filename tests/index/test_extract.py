"""Tests for index.extract: article body and metadata from HTML pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from index.errors import NotAnArticleError
from index.extract import extract_html

BODY = [
    "The city council voted on Tuesday to approve a new tram line linking the northern suburbs to the city "
    "centre, ending a decade-long debate over the future of public transport in the region.",
    "The line, which will run for 14 kilometres and serve 22 stops, is expected to cost 480 million euros and "
    "open to passengers in 2029. Construction is due to begin next spring once the final permits are granted.",
    "Supporters of the project said it would cut journey times for commuters by up to half and reduce traffic "
    "congestion on the main arterial roads, which are regularly gridlocked during rush hour.",
    "Opponents argued that the money would be better spent on expanding the existing bus network, which they "
    "said could be improved more quickly and at a fraction of the cost.",
]

ARTICLE_HTML = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>City council approves new tram line | The Daily Example</title>
<meta property="og:title" content="City council approves new tram line">
<meta property="og:site_name" content="The Daily Example">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-03-12T09:30:00+01:00">
<link rel="canonical" href="https://news.example.com/2024/03/12/tram-line">
</head>
<body>
<div id="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
<header><nav><ul>
  <li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li>
  <li><a href="/sport">Sport</a></li><li><a href="/login">Sign in</a></li>
</ul></nav></header>
<div class="ad-banner">Advertisement: Buy the best mattresses today! Subscribe now for 50% off.</div>
<main><article>
<h1>City council approves new tram line</h1>
<p class="byline">By Jane Doe</p>
{"".join(f"<p>{p}</p>" for p in BODY)}
</article></main>
<aside class="related"><h3>Related stories</h3><ul>
  <li><a href="/a">Bus fares to rise in April</a></li><li><a href="/b">New bike lanes open downtown</a></li>
</ul></aside>
<footer><p>&copy; 2024 The Daily Example. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a></footer>
</body>
</html>
"""

LOGIN_WALL_HTML = """<!DOCTYPE html>
<html><head><title>Subscribe | The Daily Example</title></head>
<body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<div class="paywall">
  <h2>Subscribe to continue reading</h2>
  <p>You have reached your limit of free articles. Sign in or subscribe to keep reading.</p>
  <form action="/login"><input name="email"><input type="password" name="pw"><button>Sign in</button></form>
</div>
<footer>&copy; 2024 The Daily Example</footer>
</body></html>
"""


def test_extracts_body_without_boilerplate() -> None:
    """should keep the article paragraphs and drop navigation, ads, related links and footer."""
    result = extract_html(ARTICLE_HTML, url="https://www.news.example.com/2024/03/12/tram-line?utm_source=x")
    assert result.text == "\n\n".join(BODY)
    for junk in ("Politics", "mattresses", "Related stories", "Bus fares", "All rights reserved", "cookies"):
        assert junk not in result.text


def test_extracts_metadata() -> None:
    """should read title, author, exact UTC publication time, site name and keep the given URL."""
    url = "https://www.news.example.com/2024/03/12/tram-line"
    result = extract_html(ARTICLE_HTML.encode("utf-8"), url=url)
    assert result.title == "City council approves new tram line"
    assert result.author == "Jane Doe"
    assert result.published == datetime(2024, 3, 12, 8, 30, tzinfo=UTC)
    assert result.source == "The Daily Example"
    assert result.url == url


def test_falls_back_to_hostname_and_canonical_url() -> None:
    """should use the host as source when there is no site name, and the canonical link without a URL."""
    html = ARTICLE_HTML.replace('<meta property="og:site_name" content="The Daily Example">', "")
    assert extract_html(html, url="https://www.news.example.com/x").source == "news.example.com"
    assert extract_html(ARTICLE_HTML).url == "https://news.example.com/2024/03/12/tram-line"


def test_reads_json_ld_date() -> None:
    """should take the publication time from JSON-LD when there is no meta tag."""
    html = ARTICLE_HTML.replace(
        '<meta property="article:published_time" content="2024-03-12T09:30:00+01:00">',
        '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": '
        '[{"@type": "NewsArticle", "datePublished": "2024-03-11T22:05:00Z"}]}</script>',
    )
    assert extract_html(html).published == datetime(2024, 3, 11, 22, 5, tzinfo=UTC)


def test_decodes_declared_charset() -> None:
    """should decode bytes in the charset the page declares."""
    html = ARTICLE_HTML.replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">')
    html = html.replace("city centre", "café district")
    result = extract_html(html.encode("iso-8859-1"))
    assert "café district" in result.text


def test_keeps_list_items_together() -> None:
    """should keep a list as one block of consecutive lines."""
    html = ARTICLE_HTML.replace("</article>", "<ul><li>Harrow Fields</li><li>Central Station</li></ul></article>")
    assert "- Harrow Fields\n- Central Station" in extract_html(html).text


@pytest.mark.parametrize(
    "html",
    [
        pytest.param(LOGIN_WALL_HTML, id="login-wall"),
        pytest.param("<html><head><title>x</title></head><body></body></html>", id="empty-body"),
        pytest.param("", id="empty-string"),
        pytest.param(b"   \n", id="blank-bytes"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, id="binary"),
    ],
)
def test_refuses_pages_without_article(html: str | bytes) -> None:
    """should raise NotAnArticleError for login walls, empty and non-HTML pages."""
    with pytest.raises(NotAnArticleError) as info:
        extract_html(html, url="https://news.example.com/premium/story")
    assert "http" not in str(info.value)


def test_short_paywall_teaser_is_refused() -> None:
    """should refuse a teaser paragraph followed by a subscribe prompt."""
    html = ARTICLE_HTML.replace(
        "".join(f"<p>{p}</p>" for p in BODY),
        f"<p>{BODY[0]}</p><p>{BODY[1]}</p><div><p>Subscribe to continue reading this article.</p></div>",
    )
    with pytest.raises(NotAnArticleError):
        extract_html(html)
