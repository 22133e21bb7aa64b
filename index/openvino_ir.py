"""Converting a Hugging Face BERT-style model to OpenVINO IR, cached on disk with reference outputs.

Shared by the sentence encoder (``index/openvino_encoder.py``) and the reader's cross-encoder
(``retrieval/reader/cross.py``): each wraps the transformer with its own head (pooling, or the
classifier's logit), and keeps next to the IR the PyTorch outputs of fixed probes, which every
later load compares with OpenVINO's before trusting it.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


def convert_to_ir(
    inner: Any,
    head: Callable[[Any, Any], Any],
    example: dict[str, Any],
    target: Path,
    probes: Callable[[], dict[str, Any]],
) -> None:
    """Trace ``head(inner(**inputs), attention_mask)`` into IR in ``target`` with ``probes()`` as ``probes.json``.

    Atomic: written into a temporary folder and renamed, so a crash never leaves half an IR behind.
    """
    import openvino as ov
    import torch

    class Traced(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            result: torch.Tensor = head(out, attention_mask)
            return result

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracing's notices (deprecations, Python-valued shapes): checked by probes
        ov_model = ov.convert_model(Traced().eval(), example_input=example)
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    ov.save_model(ov_model, str(tmp / "model.xml"))
    (tmp / "probes.json").write_text(json.dumps(probes()))
    os.replace(tmp, target)


def model_inputs(encodings: Sequence[Any]) -> dict[str, npt.NDArray[np.int64]]:
    """Token ids, attention mask and segment ids of a padded batch of ``tokenizers`` encodings."""
    return {
        "input_ids": np.asarray([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.asarray([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.asarray([e.type_ids for e in encodings], dtype=np.int64),
    }
