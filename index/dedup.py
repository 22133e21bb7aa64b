"""Near-duplicate detection for articles: MinHash signatures and an LSH index.

Wire stories and syndicated copies reach us many times with a new headline or an edited
paragraph; indexing each copy would fill answers with the same evidence. We compare
articles by the Jaccard similarity of their word 5-shingles, estimated with MinHash.

Measured with the fixtures in ``tests/index/test_dedup.py`` (a 605-word, 10-paragraph
article; 128 permutations):

* same story, new headline, one paragraph rewritten: exact J 0.78, MinHash 0.72
* same story, new headline, two paragraphs rewritten: exact J 0.66, MinHash 0.59
* different story on the same event (same council, route, people): 0.00 and 0.00

Copies score 0.6-0.8 and different stories about the same event score near 0, because
two reporters practically never write the same five words in a row outside quotes. We
use ``DEFAULT_THRESHOLD = 0.5``: a copy with up to about a quarter of its text rewritten
still merges, and the MinHash error (standard deviation ``sqrt(J(1-J)/128)``, about 0.04
here) cannot lift an unrelated story over the line. Shared long quotes are the realistic
false-positive risk; they stay far below 0.5 unless the quote is most of the article.

Signatures are 128 ``uint32`` values (512 bytes, ``to_bytes``/``from_bytes`` for SQLite).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_THRESHOLD",
    "NUM_PERM",
    "SHINGLE_SIZE",
    "NearDuplicateIndex",
    "Signature",
    "from_bytes",
    "signature",
    "similarity",
    "to_bytes",
]

Signature = npt.NDArray[np.uint32]

NUM_PERM = 128
SHINGLE_SIZE = 5
DEFAULT_THRESHOLD = 0.5
_SEED = 0x6E657773_6465736B  # "newsdesk": fixed so signatures stored in SQLite stay comparable across runs
_EMPTY = np.uint32(0xFFFFFFFF)
_WORD_RE = re.compile(r"\w+")
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64 finaliser: a fast bijective mix whose outputs behave like independent hashes.

    uint64 multiplication wraps in numpy, which is exactly the modular arithmetic wanted.
    """
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


# One 64-bit key per permutation; permutation i is h_i(x) = mix64(x ^ key_i), a cheap stand-in for
# random permutations that is deterministic across processes (unlike Python's hash()).
_PERM_KEYS: npt.NDArray[np.uint64] = _mix64(
    np.arange(1, NUM_PERM + 1, dtype=np.uint64) * _GOLDEN + np.uint64(_SEED % 2**64)
)


def _word_hashes(words: list[str]) -> npt.NDArray[np.uint64]:
    # blake2b rather than hash(): str hashes are salted per process, and stored signatures must not change.
    digests = b"".join(hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest() for w in words)
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def _shingle_hashes(text: str) -> npt.NDArray[np.uint64]:
    words = _WORD_RE.findall(text.casefold())
    if not words:
        return np.empty(0, dtype=np.uint64)
    word_h = _word_hashes(words)
    if len(words) < SHINGLE_SIZE:
        # A text shorter than one shingle is one shingle: short texts still compare equal to themselves.
        width = len(words)
        n = 1
    else:
        width = SHINGLE_SIZE
        n = len(words) - SHINGLE_SIZE + 1
    acc = np.zeros(n, dtype=np.uint64)
    for offset in range(width):
        # Order-sensitive combination: "a b c d e" and "e d c b a" are different shingles.
        acc = _mix64(acc * _GOLDEN + word_h[offset : offset + n])
    return np.unique(acc)


def signature(text: str) -> Signature:
    """Compute the MinHash signature of a text's word 5-shingles.

    Text is case-folded and split on word characters, so punctuation, whitespace and case
    changes do not count as edits. An empty text gets an all-``0xFFFFFFFF`` signature that
    is similar to nothing, not even another empty text.

    Args:
        text: article text, ideally title plus body as stored.

    Returns:
        ``NUM_PERM`` uint32 minimum hash values.
    """
    shingles = _shingle_hashes(text)
    if shingles.size == 0:
        return np.full(NUM_PERM, _EMPTY, dtype=np.uint32)
    # (shingles, perms) matrix: ~600 x 128 for a typical article, about 1 ms per article.
    hashed = _mix64(shingles[:, None] ^ _PERM_KEYS[None, :])
    # Keep the top 32 bits: collisions at 2**-32 are irrelevant and signatures halve in size.
    minima: npt.NDArray[np.uint64] = hashed.min(axis=0)
    return (minima >> np.uint64(32)).astype(np.uint32)


def _is_empty(sig: Signature) -> bool:
    return bool(np.all(sig == _EMPTY))


def similarity(a: Signature, b: Signature) -> float:
    """Estimate the Jaccard similarity of two texts from their signatures.

    Args:
        a: signature from ``signature``.
        b: signature from ``signature``.

    Returns:
        The fraction of equal positions, in [0, 1]; 0.0 when either text was empty.

    Raises:
        ValueError: the signatures have different lengths.
    """
    if a.shape != b.shape:
        raise ValueError(f"signatures differ in length: {a.shape} vs {b.shape}")
    if _is_empty(a) or _is_empty(b):
        return 0.0
    return float(np.count_nonzero(a == b)) / a.size


def to_bytes(sig: Signature) -> bytes:
    """Serialise a signature as little-endian bytes (512 bytes) for a SQLite BLOB."""
    return np.asarray(sig, dtype="<u4").tobytes()


def from_bytes(data: bytes) -> Signature:
    """Read a signature written by ``to_bytes``.

    Raises:
        ValueError: ``data`` is not ``NUM_PERM`` uint32 values.
    """
    if len(data) != NUM_PERM * 4:
        raise ValueError(f"a signature is {NUM_PERM * 4} bytes, got {len(data)}")
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


class NearDuplicateIndex:
    """In-memory LSH index over MinHash signatures, for "have we already indexed this story?".

    The 128 values are cut into ``bands`` bands of ``128 // bands`` rows; two signatures
    become candidates when any band is identical, then candidates are checked with the
    exact signature similarity. With the default 32 bands of 4 rows a pair at similarity
    ``s`` becomes a candidate with probability ``1 - (1 - s**4)**32``: 0.9999 at 0.7, 0.88
    at 0.5 (the default threshold) and 0.05 at 0.2, so almost no true copy is missed and
    the exact check only sees a handful of candidates. Lower thresholds need more bands
    (``bands=64``) for the same recall.

    Band hashes live in numpy arrays (no per-entry Python objects): at 100k articles that is
    25 MB of band hashes plus 51 MB of signatures. New rows go to an unsorted tail that is
    scanned linearly; the tail is merged into per-band sorted arrays (binary search) once it
    exceeds an eighth of the index, so building is ``O(n log n)`` overall and a query costs
    ``bands`` binary searches plus a scan of a short tail.

    Not thread-safe: guard it with the caller's lock when ingesting from several threads.
    """

    def __init__(self, *, bands: int = 32) -> None:
        """Create an empty index.

        Args:
            bands: number of LSH bands; must divide 128. More bands find lower similarities
                at the cost of more candidates.

        Raises:
            ValueError: ``bands`` does not divide ``NUM_PERM``.
        """
        if bands <= 0 or NUM_PERM % bands:
            raise ValueError(f"bands must divide {NUM_PERM}, got {bands}")
        self._bands = bands
        self._rows = NUM_PERM // bands
        self._keys: list[str | None] = []
        self._pos: dict[str, int] = {}
        self._sigs = np.empty((0, NUM_PERM), dtype=np.uint32)
        self._band_hashes = np.empty((0, bands), dtype=np.uint64)
        self._size = 0
        self._sorted_upto = 0
        self._sorted_hashes = np.empty((bands, 0), dtype=np.uint64)
        self._sorted_rows = np.empty((bands, 0), dtype=np.int64)

    def __len__(self) -> int:
        """Number of live keys."""
        return len(self._pos)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is in the index."""
        return key in self._pos

    def _band_hash(self, sigs: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
        """Hash each band of each signature (shape ``(n, bands)``), salted by band number."""
        grouped = sigs.reshape(sigs.shape[0], self._bands, self._rows).astype(np.uint64)
        acc = np.broadcast_to(np.arange(self._bands, dtype=np.uint64) * _GOLDEN, grouped.shape[:2]).copy()
        for row in range(self._rows):
            acc = _mix64(acc * _GOLDEN + grouped[:, :, row])
        return acc

    def _grow(self, extra: int) -> None:
        need = self._size + extra
        if need <= self._sigs.shape[0]:
            return
        capacity = max(need, 2 * self._sigs.shape[0], 1024)
        sigs = np.empty((capacity, NUM_PERM), dtype=np.uint32)
        sigs[: self._size] = self._sigs[: self._size]
        hashes = np.empty((capacity, self._bands), dtype=np.uint64)
        hashes[: self._size] = self._band_hashes[: self._size]
        self._sigs, self._band_hashes = sigs, hashes

    def add(self, key: str, sig: Signature) -> None:
        """Add (or replace) the signature stored under ``key``.

        Args:
            key: the caller's id for the article, e.g. its store id.
            sig: its signature from ``signature``.
        """
        self.add_many([key], [sig])

    def add_many(self, keys: Iterable[str], sigs: Iterable[Signature]) -> None:
        """Add many signatures at once: the fast path for loading the index from SQLite at start-up.

        Raises:
            ValueError: a signature has the wrong shape, or keys and signatures differ in number.
        """
        key_list = list(keys)
        sig_list = [np.asarray(s, dtype=np.uint32) for s in sigs]
        if len(key_list) != len(sig_list):
            raise ValueError(f"{len(key_list)} keys but {len(sig_list)} signatures")
        if not key_list:
            return
        if any(s.shape != (NUM_PERM,) for s in sig_list):
            raise ValueError(f"signatures must have shape ({NUM_PERM},)")
        batch = np.stack(sig_list)
        self._grow(len(key_list))
        start = self._size
        self._sigs[start : start + len(key_list)] = batch
        self._band_hashes[start : start + len(key_list)] = self._band_hash(batch)
        for offset, key in enumerate(key_list):
            self.remove(key)
            self._keys.append(key)
            self._pos[key] = start + offset
        self._size += len(key_list)
        if self._size - self._sorted_upto > max(1024, self._size // 8):
            self._merge()

    def remove(self, key: str) -> bool:
        """Forget ``key``; returns whether it was present. Its row stays as a tombstone."""
        row = self._pos.pop(key, None)
        if row is None:
            return False
        self._keys[row] = None
        return True

    def _merge(self) -> None:
        hashes = self._band_hashes[: self._size].T  # (bands, n)
        order = np.argsort(hashes, axis=1, kind="stable")
        self._sorted_rows = order
        self._sorted_hashes = np.take_along_axis(hashes, order, axis=1)
        self._sorted_upto = self._size
        log.debug("near-duplicate index merged: %d rows", self._size)

    def _candidates(self, sig: Signature) -> npt.NDArray[np.int64]:
        query = self._band_hash(sig.reshape(1, NUM_PERM))[0]
        found: list[npt.NDArray[np.int64]] = []
        for band in range(self._bands):
            column = self._sorted_hashes[band]
            lo = int(np.searchsorted(column, query[band], side="left"))
            hi = int(np.searchsorted(column, query[band], side="right"))
            if hi > lo:
                found.append(self._sorted_rows[band, lo:hi])
        tail = self._band_hashes[self._sorted_upto : self._size]
        if tail.shape[0]:
            found.append(np.flatnonzero((tail == query).any(axis=1)).astype(np.int64) + self._sorted_upto)
        if not found:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(found))

    def query(self, sig: Signature, threshold: float = DEFAULT_THRESHOLD) -> list[tuple[str, float]]:
        """Find indexed articles whose estimated similarity to ``sig`` is at least ``threshold``.

        Args:
            sig: signature of the new article.
            threshold: minimum estimated Jaccard similarity, see ``DEFAULT_THRESHOLD``.

        Returns:
            ``(key, similarity)`` pairs, most similar first.
        """
        sig = np.asarray(sig, dtype=np.uint32)
        if sig.shape != (NUM_PERM,):
            raise ValueError(f"signature must have shape ({NUM_PERM},)")
        if self._size == 0 or _is_empty(sig):
            return []
        rows = self._candidates(sig)
        if rows.size == 0:
            return []
        sims = np.count_nonzero(self._sigs[rows] == sig, axis=1) / NUM_PERM
        results: list[tuple[str, float]] = []
        for row, sim in zip(rows.tolist(), sims.tolist(), strict=True):
            key = self._keys[row]
            if key is not None and sim >= threshold:
                results.append((key, float(sim)))
        results.sort(key=lambda item: (-item[1], item[0]))
        return results
