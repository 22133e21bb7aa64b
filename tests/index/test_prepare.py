from __future__ import annotations

import pytest

from index.errors import NotAnArticleError
from index.models import RawArticle
from index.prepare import count_words, prepare_article


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("The council voted on Tuesday.", 5, id="english"),
        pytest.param("东京发生强烈地震", 8, id="chinese"),
        pytest.param("東京で大きな地震がありました", 14, id="japanese"),
        pytest.param("รัฐบาลประกาศมาตรการใหม่", 23, id="thai"),
        pytest.param("Sony 在东京 announced", 5, id="mixed"),
        pytest.param("서울에서 큰 지진이 발생했다", 4, id="korean-has-spaces"),
    ],
)
def test_count_words(text: str, words: int):
    """should count space-separated words, and characters of scripts written without spaces."""
    assert count_words(text) == words


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("东京发生强烈地震，数千人被疏散。", id="chinese"),
        pytest.param("東京で大きな地震があり、数千人が避難しました。", id="japanese"),
    ],
)
def test_articles_without_spaces_are_accepted(text: str):
    """should keep a Chinese or Japanese article rather than reject it as fewer than 5 words."""
    article = prepare_article(RawArticle(title="地震", text=text), collection="global")
    assert article.text == text


def test_too_short_article_is_refused():
    """should still refuse a body of fewer than 5 words."""
    with pytest.raises(NotAnArticleError, match="fewer than 5 words"):
        prepare_article(RawArticle(title="Short", text="Only four words here"), collection="global")
