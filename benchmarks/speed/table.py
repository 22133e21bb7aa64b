"""The human-readable table of a speed result."""

from __future__ import annotations

from typing import Any


def format_table(result: dict[str, Any]) -> str:
    """The result as a readable table."""
    m = result["machine"]
    lines = [
        f"machine: {m['cores']} cores, {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}"
        f" (load {result.get('load_average', {}).get('start')})",
        f"model {result['model']}, engine encoder: {result['encoder']}    {result['date']}",
        "",
        f"{'raw encode, sentence-transformers PyTorch (batch 16)':<58}{result['encode_passages_per_s']:>10} passages/s",
        f"{'raw encode, OpenVINO (batch 16)':<58}{result['encode_openvino_passages_per_s']!s:>10} passages/s",
        f"{'ingest end to end (Engine.ingest)':<58}{result['ingest_passages_per_s']:>10} passages/s",
        f"{'':<58}{result['ingest_articles_per_s']:>10} articles/s",
        f"{'ingest / PyTorch encode (target >= 0.85)':<58}{result['ingest_to_encode_ratio']:>10}",
        f"{'ingest / OpenVINO encode':<58}{result['ingest_to_openvino_ratio']!s:>10}",
        f"{'share of ingest time spent embedding':<58}{result.get('ingest_embed_share')!s:>10}",
    ]
    stages = result.get("ingest", {}).get("stages_s")
    if stages:
        lines.append("ingest stages (s): " + ", ".join(f"{k} {v}" for k, v in stages.items()))
    lines += [
        "",
        f"{'passages':>10} {'index':<16}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'peak RSS MB':>13}{'bytes':>15}",
    ]
    for size, index_type in result["index_type"].items():
        ask = result["ask_ms"].get(size) or result.get("faiss_1m", {}).get("search_ms", {})
        lines.append(
            f"{int(size):>10,} {index_type:<16}{ask.get('p50', '-'):>9}{ask.get('p95', '-'):>9}{ask.get('p99', '-'):>9}"
            f"{result['peak_rss_mb'].get(size, '-'):>13}{result['index_bytes'].get(size, '-'):>15,}"
        )
    if "faiss_1m" in result:
        f = result["faiss_1m"]
        lines.append(
            f"1M: vectors only (FAISS search, no ask), build {f['build_s']} s"
            f"{' (estimated)' if f['estimated'] else ''}, {f['vectors']}"
        )
    return "\n".join(lines)
