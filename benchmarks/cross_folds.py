"""Out-of-fold cross-encoder logits kept per fold, under a key of everything they depend on.

Fine-tuning the cross-encoder five times (once per fold) with two passes takes longer than one
working session on 2 cores. ``benchmarks.train_reader --cross-cache DIR`` writes each fold's logits
as soon as they exist; a later run with the same inputs reads them instead of fine-tuning again,
so a long training can be finished in parts. The key hashes the fold's training pairs, the texts
the held-out questions are scored on (question and best candidates, in order), the fine-tuning
settings, the base weights' fingerprint and the PyTorch version: if any of them differs, the fold
is fine-tuned again, so a cached fold never stands in for one the run would not have made.

The final cross-encoder (trained on every fold) is kept the same way, without a copy: the manifest
of a trained reader records its key (``cross.key``), and a run whose final key matches reuses that
reader's ``cross.safetensors`` when the file still has the hash the manifest gives it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks import train_cross
from benchmarks.reader_data import Asked
from retrieval.reader.cross import CROSS, sentence_text
from retrieval.reader.model import MANIFEST, sha256

FORMAT = 1


def fold_key(
    training: Sequence[tuple[str, str, float]],
    held: Sequence[Asked],
    settings: dict[str, object],
) -> str:
    """A hash of what one fold's logits depend on: its pairs, what it scores and how it is fine-tuned."""
    digest = hashlib.sha256(json.dumps({"format": FORMAT, **settings}, sort_keys=True).encode())
    for question, sentence, label in training:
        digest.update(json.dumps([question, sentence, label]).encode())
    digest.update(b"\0held\0")
    for a in held:
        best = np.argsort(-a.oof, kind="stable")[: train_cross.TOP]
        digest.update(json.dumps([a.question, [sentence_text(a.candidates[int(i)]) for i in best]]).encode())
    return digest.hexdigest()


def final_model(readers: Sequence[Path], key: str) -> Path | None:
    """The first reader's cross-encoder file made under ``key`` and unchanged since; None (saying why) if none."""
    for folder in dict.fromkeys(readers):
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            entry = manifest["cross"]
            if entry.get("key") != key:
                print(
                    f"{folder}: its cross-encoder has another key (other pairs or settings, or none recorded)",
                    file=sys.stderr,
                )
                continue
            if sha256(folder / CROSS) != entry["sha256"]:
                print(f"{folder / CROSS}: does not match its manifest's hash", file=sys.stderr)
                continue
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"{folder}: no reader to reuse ({exc})", file=sys.stderr)
            continue
        return folder / CROSS
    return None


def _path(folder: Path, fold: int) -> Path:
    return folder / f"fold-{fold + 1}.npz"


def load(folder: Path, fold: int, key: str, count: int) -> list[np.ndarray] | None:
    """The fold's cached logits when the file exists, reads and carries ``key``; else None (and why, on stdout)."""
    path = _path(folder, fold)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            stored, lengths, values = str(data["key"]), data["lengths"], data["values"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"{path}: unreadable ({exc}); fine-tuning this fold again", file=sys.stderr)
        return None
    if stored != key or len(lengths) != count or int(lengths.sum()) != len(values):
        print(f"{path}: made from other inputs or settings; fine-tuning this fold again", file=sys.stderr)
        return None
    return [part.astype(np.float32) for part in np.split(values, np.cumsum(lengths)[:-1])] if count else []


def save(folder: Path, fold: int, key: str, logits: Sequence[np.ndarray]) -> Path:
    """Write the fold's logits atomically (a temporary file renamed into place)."""
    folder.mkdir(parents=True, exist_ok=True)
    lengths = np.asarray([len(v) for v in logits], dtype=np.int64)
    values = np.concatenate([np.asarray(v, dtype=np.float32) for v in logits]) if logits else np.zeros(0, np.float32)
    handle, name = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez_compressed(out, key=np.asarray(key), lengths=lengths, values=values)
        os.replace(name, _path(folder, fold))
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return _path(folder, fold)
