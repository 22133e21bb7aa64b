from __future__ import annotations

import json
from pathlib import Path

from index.readers import parse_plain_text, read_bytes, read_paths
from tests.conftest import SEEDS


def test_seed_layout():
    """should read the title line and the "Story highlights" bullets of the seed."""
    raw = parse_plain_text((SEEDS / "000_1423f935b1231191.txt").read_text())
    assert raw.title == "Russia-US ties face long haul to recover from 'zero'"
    assert len(raw.highlights) == 3 and raw.highlights[0].startswith("Moscow is angry")
    assert raw.text.lstrip().startswith("Moscow (CNN)")


def test_jsonl_bad_line_is_reported_and_rest_read():
    """should report a malformed JSONL line by number and read the others."""
    good = json.dumps({"title": "T", "text": "Some article text here.", "url": "https://x.test/a", "extra": 1})
    data = f"{good}\n{{not json\n{json.dumps({'title': 'no text'})}\n{good}\n".encode()
    results = list(read_bytes(data, "feed.jsonl"))
    assert [r.article is not None for r in results] == [True, False, False, True]
    assert "feed.jsonl:2" in (results[1].error or "") and "malformed JSON" in (results[1].error or "")
    assert "feed.jsonl:3" in (results[2].error or "") and "text" in (results[2].error or "")
    assert results[0].article is not None and results[0].article.url == "https://x.test/a"


def test_json_list_and_published_dates():
    """should read a JSON array and parse dates to UTC."""
    records = [{"title": "A", "text": "Body text.", "published": "2015-03-04T10:00:00+02:00"}]
    (result,) = read_bytes(json.dumps(records).encode(), "a.json")
    assert result.article is not None and result.article.published is not None
    assert result.article.published.isoformat() == "2015-03-04T08:00:00+00:00"


def test_binary_empty_and_wrong_encoding(tmp_path: Path):
    """should refuse binary, empty and non-UTF-8 files with a clear reason."""
    (tmp_path / "a.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "b.txt").write_bytes(b"   \n")
    (tmp_path / "c.txt").write_bytes("Caf\u00e9 society".encode("latin-1"))
    errors = {Path(r.origin).name: r.error for r in read_paths([tmp_path])}
    assert "binary" in (errors["a.txt"] or "")
    assert "empty" in (errors["b.txt"] or "")
    assert "UTF-8" in (errors["c.txt"] or "")


def test_missing_path_is_reported(tmp_path: Path):
    """should report a path that does not exist instead of raising."""
    (result,) = read_paths([tmp_path / "nope.txt"])
    assert result.article is None and "no such file" in (result.error or "")


def test_deeply_nested_json_is_one_bad_file(tmp_path: Path):
    """should report a 200,000-deep JSON file as a bad input and still read the next file."""
    (tmp_path / "a.json").write_text("[" * 200_000 + "]" * 200_000)
    (tmp_path / "b.jsonl").write_text('{"x": ' * 200_000 + "1" + "}" * 200_000 + "\n")
    (tmp_path / "c.json").write_text(json.dumps({"title": "Fine", "text": "A perfectly ordinary article body."}))
    results = {Path(r.origin.split(":")[0]).name: r for r in read_paths([tmp_path])}
    assert results["a.json"].error == f"{tmp_path / 'a.json'}: the JSON is nested too deeply to be an article"
    assert results["b.jsonl"].error == f"{tmp_path / 'b.jsonl'}:1: the JSON is nested too deeply to be an article"
    assert results["c.json"].article is not None and results["c.json"].article.title == "Fine"
