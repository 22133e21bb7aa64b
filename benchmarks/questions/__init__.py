"""Hand-written questions in the way Discord users ask them, with their answer keys and scoring.

``user.jsonl`` holds single questions: half ``speaker`` ("what did the celtic boss say about..."),
a quarter ``fact`` and a quarter ``refuse`` (the corpus does not say: other people and events,
events after 2015, what the right-sounding article leaves out, off-topic). ``followups.jsonl``
holds two-turn conversations, scored on the second turn. ``expected`` lists short answer fragments
of the expected article (the eval data is third-party: nothing longer is copied); ``absent`` lists
what a refusal's corpus must not contain.

How the articles were chosen: ``random.Random(20261211)`` sampled 40 CNN/DailyMail articles and then
8 BBC articles per category (business, entertainment, politics, sport, tech), and every sampled
article got a question, in sampled order, except a CNN Student News page and a game review that
hold nothing to ask: a speaker question where the article quotes someone, a fact question
where it does not or where a number or name was the natural thing to ask.

``dev.jsonl`` is the development set (the same kinds, 2,686 questions: 1,368 speaker, 690 facts, 628
refusals, on about 2,100 other articles; keys written from the article text alone, never from
newsdesk's answers; ``re06``, written as a refusal, became a speaker question on 2026-12-02 when
its article was found to answer it): tuning and training on it are allowed (``benchmarks.train_reader`` reports it
out of fold). Its first 96 rows sampled ``random.Random(7)`` over the indexed CNN/DailyMail and BBC
articles that no other set uses; the next 538 (``da``/``fa``/``ra``, ``db``..., ``dc``..., ``dd``...,
``de``..., ``dfx``/``ffx``/``rfx``, ``dg``...) took, in order, positions from 0-399, 400-799,
800-1199, 1200-1599, 1600-1999, 2000-2399 and 2400 on of those articles (the first 96's and
near-copies also left out) sorted and shuffled with ``random.Random(20261130)``, one question per
article. The last 2,052 (letters ``h i j k m n p``, then ``t u v w x y z``, then ``la``..``lg`` after
``d``/``f``/``r``: 21 writers, 50 speaker / 25 fact / 25 refusal rows each) took positions in order from a new list: the
CNN/DailyMail and BBC articles that no set used yet, longer than 600 characters, whose first 400
characters (lower-cased, punctuation collapsed) no other article shares, sorted and shuffled with
``random.Random(20261201)``; writer ``h`` started at position 0, then 350, 700, 1050, 1400, 1750 and
2100, ``t``..``z`` at 80, 430, 776, 1130, 1500, 1830 and 2180, ``la``..``lg`` at 161, 508, 854, 1206,
1575, 1912 and 2263. The last fourteen were asked for more refusals about people the news quotes, on
what they did not say. 48 refusals too like an earlier one or like a held-out one (half their content
words shared) were dropped.

``heldout.jsonl`` is a second held-out set, larger than ``user.jsonl``: 1,375 questions (699 speaker,
350 facts, 326 refusals) by fourteen more writers, written after the fourth training was chosen and
never used to choose anything. Seven (letters ``oa``..``og``) went on in the same list from where the
last seven development writers stopped (positions 241, 584, 935, 1285, 1668, 1987 and 2345); seven
(``qa``..``qg``) wrote over the NewsQA articles, ``random.Random(20261202)`` shuffling their sorted ids,
92 positions each. Refusals like a development or ``user.jsonl`` one, and one question whose article
is a near-copy of a development article, were dropped. ``user.jsonl``, ``heldout.jsonl`` and
``followups.jsonl`` are held out, for reporting only: nothing in ``retrieval/`` may be tuned on them.
``python -m benchmarks.questions.verify`` checks them against the eval corpus;
``python -m benchmarks.quality --questions FILE`` scores systems on one of them.
"""
