"""Tests for index.dedup: MinHash signatures and the LSH near-duplicate index."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from index.dedup import (
    DEFAULT_THRESHOLD,
    NUM_PERM,
    NearDuplicateIndex,
    from_bytes,
    signature,
    similarity,
    to_bytes,
)

PARAGRAPHS = [
    "The city council voted on Tuesday evening to approve a new tram line linking the northern suburbs of "
    "Elmsworth to the city centre, ending a debate that has divided residents, businesses and transport "
    "campaigners for more than a decade. The motion passed by 31 votes to 18 after a session that lasted almost "
    "five hours and was interrupted twice by protesters in the public gallery.",
    "The line will run for 14 kilometres along Northgate Road and the old railway cutting, serving 22 stops "
    "between Harrow Fields and Central Station. Officials estimate it will cost 480 million euros, with roughly "
    "two thirds of the money coming from the national infrastructure fund and the rest from regional bonds and a "
    "levy on new commercial developments near the route.",
    "Construction is due to begin next spring once the final environmental permits are granted, and the first "
    "passengers could board in the summer of 2029. The council's transport director, Miriam Okafor, told "
    "councillors that the timetable was ambitious but realistic, provided that the utility works under Northgate "
    "Road were completed on schedule.",
    "Supporters of the project argued that the tram would cut journey times for commuters from the northern "
    "suburbs by up to half and take thousands of cars off the main arterial roads, which are regularly "
    "gridlocked during the morning and evening rush hours. Business groups said better links would help the "
    "struggling retail district around the station recover.",
    "Opponents said the money would be better spent on expanding the existing bus network, which they claimed "
    "could be improved more quickly and at a fraction of the cost. Several councillors from the opposition "
    "benches warned that large transport projects in the region had a history of running late and over budget, "
    "pointing to the ring road extension that opened three years behind schedule.",
    "Residents along Northgate Road have raised concerns about noise, the loss of parking spaces and the felling "
    "of about 120 mature trees along the route. The council has promised to plant two new trees for every one "
    "removed and to hold a series of public meetings on the design of the stops before the plans are finalised "
    "in the autumn.",
    "The mayor, Daniel Brandt, described the vote as a turning point for the city and said the tram would be "
    "the backbone of a wider plan to halve transport emissions by 2035. He said the council had listened to "
    "residents and changed the route twice to avoid demolishing homes, and he promised that local companies "
    "would be given a fair chance to bid for construction contracts.",
    "Transport campaigners welcomed the decision but said the council must also commit to lower fares and "
    "better cycling routes to the new stops. The regional transport authority is expected to publish a detailed "
    "timetable and fare structure for the line early next year, and a final decision on the depot site will be "
    "taken by the planning committee in June.",
    "Neighbouring towns are watching closely. Leaders in Castlebridge and Upper Wick have asked whether the line "
    "could later be extended to reach them, and the council said the depot would be designed so that a second "
    "branch could be added without closing the existing service. No money has been set aside for an extension.",
    "The vote follows two earlier attempts to build a tram in the city, in 1998 and 2009, both of which were "
    "abandoned after national funding was withdrawn. This time the council says the money is guaranteed by a "
    "signed agreement, and the first contracts for detailed design work are expected to be awarded within weeks.",
]
TITLE = "City council approves new tram line after decade of debate"
ARTICLE = TITLE + "\n\n" + "\n\n".join(PARAGRAPHS)

NEAR_COPY = (
    "Elmsworth says yes to 480m tram link to northern suburbs\n\n"
    + "\n\n".join(PARAGRAPHS[:4])
    + "\n\n"
    + "Critics of the scheme, including the local taxpayers' association, insisted that upgrading bus services "
    "would deliver most of the benefits for a small share of the money. They noted that the region's last major "
    "road project finished years late, and they called for an independent review of the cost estimates before "
    "any contracts are signed with builders." + "\n\n" + "\n\n".join(PARAGRAPHS[5:])
)

SAME_TOPIC = "\n\n".join(
    [
        "Elmsworth tram vote: what the new line means for commuters",
        "After years of argument, Elmsworth councillors have finally backed a tram line to the northern suburbs. "
        "Here is what passengers can expect, from the route and the stops to the likely fares and the years of "
        "roadworks that will come first.",
        "The route follows Northgate Road for most of its length before dropping into the former railway cutting "
        "near the hospital. Planners chose it because the cutting already provides a level, traffic-free corridor "
        "into the centre, which keeps tunnelling to a minimum and protects the schedule.",
        "Trams are expected every six minutes at peak times and every ten minutes in the evenings. The council "
        "says a trip from Harrow Fields to Central Station should take about 24 minutes, compared with up to 50 "
        "minutes by bus on a bad morning, although the final figures depend on signal priority at junctions.",
        "Fares have not been set, but the regional authority has said it wants a single ticket to cover buses and "
        "trams, so that passengers can change between them without paying twice. Season tickets for students and "
        "older residents are likely to be discounted, as they already are on the buses.",
        "Drivers should prepare for disruption. Utility companies must move gas mains, water pipes and cables "
        "from under the road before track can be laid, and sections of Northgate Road will be reduced to one lane "
        "in each direction for long periods. Diversions will be announced at least a month in advance.",
        "Shop owners near the planned stops are divided. Some hope for more customers once the line opens, while "
        "others fear that two years of roadworks will drive people away. The council has said it will set up a "
        "compensation scheme for small businesses whose trade suffers during construction.",
        "The first public meetings on the stop designs are planned for the autumn, and residents can already "
        "comment on the route maps online. Anyone whose property borders the line should receive a letter "
        "explaining the next steps in the coming weeks.",
    ]
)


def _exact_jaccard(a: str, b: str) -> float:
    def shingles(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"\w+", text.casefold())
        return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}

    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def test_article_is_about_600_words() -> None:
    """should use a fixture article of realistic length (~600 words)."""
    assert 550 <= len(ARTICLE.split()) <= 700


def test_signature_is_deterministic_uint32() -> None:
    """should give the same 128 uint32 values for the same text, ignoring case and punctuation."""
    sig = signature(ARTICLE)
    assert sig.dtype == np.uint32
    assert sig.shape == (NUM_PERM,)
    assert np.array_equal(sig, signature(ARTICLE.upper().replace(",", " ")))


def test_near_copy_is_above_threshold() -> None:
    """should score a copy with a new headline and one rewritten paragraph above the threshold."""
    sim = similarity(signature(ARTICLE), signature(NEAR_COPY))
    assert sim >= DEFAULT_THRESHOLD
    assert abs(sim - _exact_jaccard(ARTICLE, NEAR_COPY)) < 0.15


def test_copy_with_two_rewritten_paragraphs_still_merges() -> None:
    """should keep a copy with a second rewritten paragraph above the threshold."""
    rewritten = "The mayor hailed the result as a historic day for the city and all of its people. " * 4
    two_edits = NEAR_COPY.replace(PARAGRAPHS[6], rewritten)
    assert similarity(signature(ARTICLE), signature(two_edits)) >= DEFAULT_THRESHOLD


def test_same_topic_story_is_below_threshold() -> None:
    """should score a different story about the same event far below the threshold."""
    sim = similarity(signature(ARTICLE), signature(SAME_TOPIC))
    assert sim < 0.1
    assert _exact_jaccard(ARTICLE, SAME_TOPIC) < 0.05


def test_empty_text_is_similar_to_nothing() -> None:
    """should give empty texts a similarity of 0, even to each other."""
    assert similarity(signature(""), signature("  ")) == 0.0
    assert similarity(signature(""), signature(ARTICLE)) == 0.0


def test_short_text_matches_itself() -> None:
    """should treat a text shorter than a shingle as one shingle."""
    assert similarity(signature("Tram approved"), signature("tram APPROVED!")) == 1.0


def test_bytes_round_trip() -> None:
    """should serialise a signature to 512 bytes and read it back unchanged."""
    sig = signature(ARTICLE)
    data = to_bytes(sig)
    assert len(data) == NUM_PERM * 4
    assert np.array_equal(from_bytes(data), sig)
    with pytest.raises(ValueError, match="bytes"):
        from_bytes(data[:-1])


def test_similarity_rejects_mismatched_lengths() -> None:
    """should refuse to compare signatures of different lengths."""
    with pytest.raises(ValueError, match="length"):
        similarity(signature(ARTICLE), signature(ARTICLE)[:64])


def test_index_finds_near_copy_not_same_topic() -> None:
    """should return the original for its near copy and nothing for the same-topic story."""
    index = NearDuplicateIndex()
    index.add("original", signature(ARTICLE))
    hits = index.query(signature(NEAR_COPY))
    assert [key for key, _ in hits] == ["original"]
    assert hits[0][1] >= DEFAULT_THRESHOLD
    assert index.query(signature(SAME_TOPIC)) == []


def test_index_replace_and_remove() -> None:
    """should replace a key's signature on re-add and forget it on remove."""
    index = NearDuplicateIndex()
    index.add("a", signature(ARTICLE))
    index.add("a", signature(SAME_TOPIC))
    assert len(index) == 1
    assert index.query(signature(ARTICLE)) == []
    assert index.query(signature(SAME_TOPIC))[0][0] == "a"
    assert index.remove("a")
    assert "a" not in index
    assert index.query(signature(SAME_TOPIC)) == []


def test_index_rejects_bad_bands() -> None:
    """should refuse a band count that does not divide the signature length."""
    with pytest.raises(ValueError, match="bands"):
        NearDuplicateIndex(bands=3)


def test_index_matches_brute_force_at_scale() -> None:
    """should find the same near duplicates as brute force among 20k random signatures, quickly."""
    rng = np.random.default_rng(7)
    sigs = rng.integers(0, 2**32, size=(20_000, NUM_PERM), dtype=np.uint32)
    target = sigs[12_345].copy()
    target[:40] = rng.integers(0, 2**32, size=40, dtype=np.uint32)  # similarity ~0.69 to row 12345
    index = NearDuplicateIndex()
    index.add_many([f"k{i}" for i in range(10_000)], sigs[:10_000])
    for i in range(10_000, 20_000):  # one by one, as during ingestion
        index.add(f"k{i}", sigs[i])
    started = time.perf_counter()
    for _ in range(100):
        hits = index.query(target)
    per_query = (time.perf_counter() - started) / 100
    brute = [(f"k{i}", float(s)) for i, s in enumerate((sigs == target).mean(axis=1)) if s >= DEFAULT_THRESHOLD]
    assert hits == brute
    assert [key for key, _ in hits] == ["k12345"]
    assert hits[0][1] == pytest.approx(88 / 128)
    assert per_query < 0.01
