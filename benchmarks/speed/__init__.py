"""Speed of newsdesk on this machine (GitHub issue 5): encoding, ingest, ask latency, memory, disk.

    python -m benchmarks.speed [--json] [--out FILE] [--sizes 10000,100000] [--questions 200] [--skip-1m]

What is measured, in one run:

* **Encode ceiling.** The first ``--encode-passages`` (400) passages of the CNN/DM sample, cut
  exactly as the pipeline cuts them (``prepare_article`` + ``chunk_article`` with the engine's
  default chunking, embedded text ``index_text(title, passage)``), are encoded by raw
  sentence-transformers on PyTorch (``TorchEncoder``, batch 16) and by the OpenVINO encoder
  (batch 16), each after a warm-up batch. ``encode_passages_per_s`` is the PyTorch figure: the
  ceiling issue 5 compares ingest against.
* **Ingest.** ``Engine.ingest`` of a fixed sample (the first ``--ingest-articles`` = 300 CNN/DM
  articles, read into memory beforehand) into an empty temporary data dir: cleaning, chunking,
  embedding with the encoder the engine picked, SQLite writes, BM25 + FAISS snapshot build and
  the atomic, fsynced save. The model load is not included. The encoder and ``Store.put_many``
  are wrapped with timers to split the time into stages, and the snapshot is rebuilt and saved
  once more afterwards to split publishing into build and save. The raw encode rates are
  measured before and after the ingest and averaged; ``ingest_embed_share`` (embedding seconds
  over ingest seconds) is the figure least affected by other processes on the machine, and
  every timed part reports ``cpu_cores_busy`` so that contention shows.
* **Ask.** Warm latency of ``Engine.ask`` (question analysis, question embedding, FAISS + BM25,
  fusion, SQLite reads and the extractive answerer) over ``--questions`` NewsQA questions
  (a seeded sample), after 5 warm-up questions, in a fresh process per corpus size, which also
  gives that size's peak RSS (``VmHWM``: model, snapshot and answering together).
* **1M vectors.** Vectors only: the FAISS index ``choose_index(1_000_000, 384)`` picks, its build
  time, bytes on disk after ``write_index`` and single-query search latency, in its own process.
  The build adds in chunks and stops after ``--hnsw-budget-s``; if it stops early, the full
  build time and size are extrapolated and the output says so (``estimated``).

How the 10k / 100k corpora are built (they cannot be embedded on 2 cores in reasonable time):

1. **Real rows.** After the timed CNN/DM ingest, the NewsQA articles are ingested into the same
   data dir, so the questions have their articles and every real row was really embedded.
2. **Synthetic rows**, written with ``Store.put_many``: each synthetic article takes two random
   real articles, draws as many of their sentences (without replacement, shuffled across both)
   as the first of them has, joins them into a text, uses its first sentence as the title and is
   chunked with ``chunk_article`` like a real article. Each synthetic passage's vector is the
   normalised mean of the real vectors of the passages its sentences came from, plus Gaussian
   noise of norm about ``NOISE`` (0.1) before normalising. Real rows come first; the last
   synthetic article is cut so that the corpus has exactly the requested number of passages.
3. ``Snapshot.build`` + ``save`` as the engine does, then an ``Engine`` with the real encoder
   opens the data dir.

The 1M vectors are mixtures of two random real vectors (random weights) plus the same noise,
normalised: real-ish structure, but not real text.
"""
