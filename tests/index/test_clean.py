from __future__ import annotations

from index.clean import clean_body, clean_title
from index.readers import parse_plain_text
from tests.conftest import SEEDS

SEED = (SEEDS / "000_1423f935b1231191.txt").read_text()


def test_seed_captions_and_timestamps_are_dropped():
    """should drop repeated video-caption lines and their timestamps, keeping the prose around them."""
    raw = parse_plain_text(SEED)
    text = clean_body(raw.text).text
    assert "didn't expect" not in text
    assert "06:30" not in text and "02:32" not in text
    assert "Michael Flynn omitted Russia income" not in text
    assert '"Everything turned out to be exactly opposite.' in text
    assert "Facts on the ground" in text  # a heading appears once: it is not a caption


def test_seed_dateline_is_extracted():
    """should take "Moscow (CNN)" out of the body and remember place and agency."""
    body = clean_body(parse_plain_text(SEED).text)
    assert body.dateline == "Moscow"
    assert body.agency == "CNN"
    assert body.text.startswith("Ever since the inauguration")


def test_quotes_and_whitespace_are_normalised():
    """should straighten curly quotes and collapse runs of spaces, paragraphs kept apart."""
    body = clean_body("  He said \u201cno\u201d  and   left.\n\n\n\nShe didn\u2019t.  ")
    assert body.text == 'He said "no" and left.\n\nShe didn\'t.'


def test_hard_wrapped_lines_are_joined():
    """should re-join a sentence that a file wrapped across lines."""
    assert clean_body("The minister said the talks\nwould resume on Monday.").text == (
        "The minister said the talks would resume on Monday."
    )


def test_link_teasers_are_removed():
    """should remove CNN's "Watch ... »" teasers."""
    text = clean_body("We've featured three videos. Watch the featured videos » Let us know.").text
    assert "»" not in text and "Let us know." in text


def test_title_is_one_line():
    """should put a title on one line with straight quotes."""
    assert clean_title("  Russia\u2019s  view\n of 'zero' ") == "Russia's view of 'zero'"


def test_control_characters_are_removed():
    """should drop ESC/BEL and other C0/C1 controls (word-separating ones become a space), keeping newlines."""
    raw = "First \x1b[31mred\x1b[0m line.\x07\nSecond\x0bline with\x85NEL and \x9b2J CSI.\n\nNext\tparagraph."
    assert clean_body(raw).text == "First [31mred[0m line.\n\nSecond line with NEL and 2J CSI.\n\nNext paragraph."
    assert clean_title("\x1b]0;pwned\x07Harbour \x1b[2Jreopens\x00") == "]0;pwnedHarbour [2Jreopens"
