"""Fine-tune the reader's cross-encoder (``retrieval/reader/cross.py``) on the ranker's best candidates.

Used by ``benchmarks/train_reader.py``, once per fold (out-of-fold logits) and once on everything
(the shipped weights). Pairs: each answerable question's ``TOP`` best candidates by out-of-fold
ranker score, labelled as the ranker's (the sentence holds an answer, in the question's article);
every positive and ``NEGATIVES`` negatives per positive (a seeded sample). ``EPOCHS`` passes of
AdamW with binary cross-entropy over the bundled MiniLM, embeddings and lower ``FROZEN_LAYERS``
frozen (the shipped settings; ``fit`` takes others): measured on one article split before
shipping, these settings took the right sentence to the top more often than the ranker alone for
NewsQA, speaker and fact questions alike.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.reader_data import Asked
from index.encoder import DEFAULT_MODEL, fingerprint, resolve_model
from retrieval.reader.cross import (
    CrossScorer,
    OpenVINOCross,
    TorchCross,
    classifier,
    convert,
    load_weights,
    pair_tokenizer,
    read,
    sentence_text,
    torch_feed,
    trained_weights,
)

BASE_MODEL = DEFAULT_MODEL
TOP = 8  # candidates re-scored per question
MAX_LENGTH = 96  # tokens of question and sentence together (news sentences rarely need more)
FROZEN_LAYERS = 3  # of MiniLM's 6: the trained half is 5.5M parameters, 11 MB in float16
EPOCHS = 2  # passes over the pairs (the twelfth training; one before it: see the README's "The twelfth training")
NEGATIVES = 3  # negatives per positive
BATCH = 16
LEARNING_RATE = 3e-5
THREADS = 2


def settings() -> dict[str, object]:
    """What a fine-tuning and its scores depend on besides the pairs, seed, frozen layers and passes.

    The fold cache's key and the manifest's record of the base weights and PyTorch both read it.
    """
    import torch

    return {
        "base_fingerprint": fingerprint(Path(resolve_model(BASE_MODEL))),
        "top": TOP,
        "max_length": MAX_LENGTH,
        "negatives": NEGATIVES,
        "batch": BATCH,
        "learning_rate": LEARNING_RATE,
        "threads": THREADS,
        "torch": str(torch.__version__),
    }


def pairs(asked: Sequence[Asked], seed: int) -> list[tuple[str, str, float]]:
    """Labelled (question, sentence) pairs from the answerable questions' best candidates, shuffled."""
    positive: list[tuple[str, str, float]] = []
    negative: list[tuple[str, str, float]] = []
    for a in asked:
        if not a.full or not a.labels.any():
            continue
        for i in np.argsort(-a.oof, kind="stable")[:TOP]:
            pair = (a.question, sentence_text(a.candidates[int(i)]), float(a.labels[int(i)] > 0))
            (positive if pair[2] else negative).append(pair)
    rng = random.Random(seed)
    rng.shuffle(negative)
    chosen = positive + negative[: NEGATIVES * len(positive)]
    rng.shuffle(chosen)
    return chosen


def fit(
    examples: Sequence[tuple[str, str, float]],
    seed: int,
    *,
    desc: str = "cross-encoder",
    frozen_layers: int = FROZEN_LAYERS,
    epochs: int = EPOCHS,
) -> TorchCross:
    """``epochs`` passes over ``examples``; the weights are rounded to float16 as shipped, so scores match the file.

    The first pass keeps the given order; each later one is a copy shuffled by ``seed``, run on as one
    stream of batches (so ``epochs=1`` trains exactly as the ninth training's model was trained).
    """
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    base = Path(resolve_model(BASE_MODEL))
    model = classifier(base, frozen_layers)
    tokenizer = pair_tokenizer(base, MAX_LENGTH)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE)
    loss = torch.nn.BCEWithLogitsLoss()
    model.train()
    stream = list(examples)
    for epoch in range(1, epochs):
        again = list(examples)
        random.Random(seed + 100 + epoch).shuffle(again)
        stream += again
    started = time.perf_counter()
    for lo in tqdm(range(0, len(stream), BATCH), desc=desc, unit="batch", mininterval=30):
        batch = stream[lo : lo + BATCH]
        feed = torch_feed(tokenizer, [(q, s) for q, s, _ in batch])
        value = loss(model(**feed).logits[:, 0], torch.tensor([y for _, _, y in batch]))
        value.backward()
        optimiser.step()
        optimiser.zero_grad()
    load_weights(model, trained_weights(model))
    tqdm.write(f"{desc}: {len(stream)} pairs in {time.perf_counter() - started:.0f} s")
    return TorchCross(model, base, MAX_LENGTH, THREADS)


def logits(cross: TorchCross, asked: Sequence[Asked]) -> list[np.ndarray]:
    """The cross-encoder's logits for each question's ``TOP`` best candidates by ``oof``, best first.

    Scored by OpenVINO when it converts (as newsdesk answers by default, and four times faster), else by PyTorch.
    """
    scorer: CrossScorer = cross
    with tempfile.TemporaryDirectory() as tmp:
        try:
            convert(cross, Path(tmp) / "ir")
            scorer = OpenVINOCross(Path(tmp) / "ir", cross.base, MAX_LENGTH, THREADS)
        except Exception as exc:  # no OpenVINO here: PyTorch gives the same logits, slower
            tqdm.write(f"scoring with PyTorch ({exc})")
        return [
            read(scorer, a.question, a.candidates, a.oof, TOP)
            for a in tqdm(asked, desc="cross-encoder scores", unit="question", mininterval=30)
        ]
