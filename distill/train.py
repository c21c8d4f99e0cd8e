"""Contrastive training of the student on teacher annotations, read top to bottom.

1. config: every hyperparameter is a field of TrainConfig, read from a TOML file (unknown keys fail) and
   saved with each checkpoint together with its hash.
2. data: teacher-annotated texts from the annotation store, a stable held-out part for checkpoint
   selection and threshold calibration (teacher labels only), descriptor views per label.
3. model: the StudentEncoder (shared for texts and descriptors), optional frozen lower layers.
4. loop: per step, texts x descriptor-vocabulary pairwise sigmoid (or InfoNCE) loss; per epoch, a
   checkpoint and a held-out score; resume continues after the last complete epoch.
5. best: the best epoch by held-out teacher macro-AP, thresholds calibrated, saved as `OUT/best`.

Distributed: under `torchrun` each process takes an equal slice of every global batch and encodes a
slice of the descriptors; the loss gathers the descriptor slices (see loss.py) and DDP averages gradients,
so the run follows the single-process loss curve.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler

from emolite import scoring
from emolite.catalog import DEFAULT_LABEL_SETS
from emolite.emoji import default_names
from emolite.errors import EmoliteError

from . import calibrate, data, loss
from .metrics import macro_ap, macro_f1
from .model import StudentEncoder, load_tokenizer, resolve_checkpoint
from .scoring import TorchScorer

log = logging.getLogger(__name__)


# -- 1. config -----------------------------------------------------------------------------------
class TrainConfigError(EmoliteError, ValueError):
    """A training config or run folder that cannot be used as given."""


@dataclass
class TrainConfig:
    # data: the annotation store and which of its records to use
    store: str = "runs/annotations.sqlite"
    split: str = "dev"  # source splits of the annotated texts, e.g. "train,dev" ("" = all but test)
    teacher: str = ""  # teacher model name ("" = any)
    holdout_fraction: float = 0.15  # teacher-labelled texts kept for checkpoint selection and calibration
    max_train_examples: int = 0  # 0 = all (tests use a few)
    max_heldout_examples: int = 0
    min_label_count: int = 1  # label keys seen fewer times are dropped from the vocabulary
    max_descriptors: int = 0  # free-form descriptors: keys scored per step (0 = whole vocabulary)
    exclude_labels: list = field(default_factory=list)  # label keys never trained on (protocol folds)
    # self-training: unlabelled texts of other domains (emolite.datasets.domain_texts names, train splits,
    # texts only), labelled with the GoEmotions decisions of a model (a bundle path or installed name)
    pseudo_label_sets: list = field(default_factory=list)
    pseudo_label_model: str = ""
    pseudo_label_per_set: int = 4000
    # descriptor augmentation
    views_per_label: int = 1  # descriptor texts per label key and step
    paraphrase_prob: float = 0.3
    definition_prob: float = 0.2
    label_templates: list = field(default_factory=lambda: ["{label}", "I feel {label}.", "This text expresses {label}."])
    # model
    base_model: str = "base"  # 'base' = packaged all-MiniLM-L6-v2, or a local Hugging Face folder
    keep_layers: list = field(default_factory=list)  # base_model layers kept, e.g. [0, 2, 4]: a smaller student
    projection_dim: int = 0  # 0 = no projection head
    max_seq_length: int = 128
    freeze_layers: int = 0  # freeze embeddings and the first N transformer layers (0 = train all)
    dropout: float = 0.1  # hidden and attention dropout of the encoder while training
    # loss
    loss: str = "sigmoid"  # 'sigmoid' (SigLIP pairwise) or 'infonce'
    pos_weight: float = 1.0
    logit_scale_init: float = 10.0
    logit_bias_init: float = -5.0
    # optimisation
    epochs: int = 6
    batch_size: int = 64  # global batch: split across processes under torchrun
    lr: float = 1e-4
    head_lr: float = 1e-2  # logit scale/bias and projection
    weight_decay: float = 0.01
    base_decay: float = 0.0  # pull toward the starting encoder's weights (decoupled L2-SP); 0 = off
    warmup_steps: int = 30
    grad_clip: float = 1.0
    max_steps: int = 0  # 0 = epochs * steps per epoch (tests cap it)
    # selection and calibration
    calibration: str = "per_label"  # per_label | global | fixed
    calibration_min_support: int = 10
    calibration_shrink: float = 0.5
    calibration_same_name: bool = True  # sets beyond GoEmotions: calibrate labels the teacher also uses
    calibrate_label_sets: list = field(
        default_factory=lambda: ["goemotions", "ekman", "sentiment", "plutchik-8", "semeval-11"]
    )
    probability_calibration: str = "none"  # none | platt: a set's own scale and per-label biases
    label_members: bool = False  # grouped sets (ekman, sentiment) embed their member labels' prompts too
    # run
    seed: int = 1337
    threads: int = 1  # on a shared CPU one thread per process beat two (2.2-3 s vs 8-16 s a step)
    eval_batch_size: int = 128
    name: str = "emolite-distilled-minilm-l6"


def parse_config(values: dict[str, Any]) -> TrainConfig:
    """TrainConfig from a flat mapping; unknown keys and wrong types raise ValueError."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise TrainConfigError(f"unknown config key(s) {unknown}; valid keys: {', '.join(fields)}")
    defaults = TrainConfig()
    for key, value in values.items():
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            values[key] = float(value)
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise TrainConfigError(f"config key '{key}' must be {expected.__name__}, got {value!r}")
    return TrainConfig(**values)


def load_config(path: str | Path | None, overrides: list[str] = ()) -> TrainConfig:
    """Read a TOML config and apply `key=value` overrides (values parsed as TOML)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    values = tomllib.loads(Path(path).read_text()) if path else {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise TrainConfigError(f"override '{item}' is not key=value")
        try:
            values[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            values[key.strip()] = raw
    return parse_config(values)


def config_hash(cfg: TrainConfig) -> str:
    blob = json.dumps(dataclasses.asdict(cfg), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def to_toml(cfg: TrainConfig) -> str:
    lines = []
    for key, value in dataclasses.asdict(cfg).items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


# -- 2. data -------------------------------------------------------------------------------------
@dataclass
class Data:
    train: list[data.Example]
    heldout: list[data.Example]
    vocab: list[str]
    views: data.DescriptorViews


def prepare_data(cfg: TrainConfig, examples: list[data.Example] | None = None) -> Data:
    if examples is None:
        examples = data.store_examples(cfg.store, cfg.split or None, cfg.teacher or None)
    train, heldout = data.holdout_split(examples, cfg.holdout_fraction, cfg.seed)
    if cfg.exclude_labels:  # the held-out texts keep every label: the protocol scores the excluded ones there
        train = data.without_labels(train, cfg.exclude_labels)
    capped = train[: cfg.max_train_examples or None]
    # A capped run (the protocol's folds) keeps the full run's share of self-training texts, and excluded
    # labels leave them too.
    pseudo = pseudo_labelled(cfg, share=len(capped) / max(len(train), 1))
    train = capped + (data.without_labels(pseudo, cfg.exclude_labels) if cfg.exclude_labels else pseudo)
    heldout = heldout[: cfg.max_heldout_examples or None]
    views = data.DescriptorViews(paraphrase_prob=cfg.paraphrase_prob, definition_prob=cfg.definition_prob)
    vocab = data.vocabulary(train, cfg.min_label_count)
    log.info("data: %d train, %d held-out texts, %d label keys", len(train), len(heldout), len(vocab))
    return Data(train, heldout, vocab, views)


def pseudo_labelled(cfg: TrainConfig, share: float = 1.0) -> list[data.Example]:
    """Self-training examples: other domains' unlabelled texts with a model's own GoEmotions decisions
    (`share` of `pseudo_label_per_set` from each set)."""
    if not cfg.pseudo_label_sets:
        return []
    if not cfg.pseudo_label_model:
        raise TrainConfigError("pseudo_label_sets needs pseudo_label_model (a bundle path or installed name)")
    import emolite
    from emolite import datasets

    clf = emolite.load(cfg.pseudo_label_model, threads=cfg.threads)
    out = []
    for name in cfg.pseudo_label_sets:
        texts = datasets.domain_texts(name, n=max(1, round(cfg.pseudo_label_per_set * share)), seed=cfg.seed)
        if texts is None:
            raise TrainConfigError(f"pseudo_label_sets: no unlabelled texts for '{name}' (emolite.datasets.domain_texts)")
        decided = clf.predict(texts, labels="goemotions")
        out += [data.Example(f"pseudo:{name}:{i}", t, tuple(p.predicted)) for i, (t, p) in enumerate(zip(texts, decided))]
    log.info("self-training: %d texts of %s labelled by %s", len(out), ", ".join(cfg.pseudo_label_sets), cfg.pseudo_label_model)
    return out


# -- 3. model ------------------------------------------------------------------------------------
class ContrastivePair(nn.Module):
    """One forward for DDP: embeds the step's texts and descriptors, returns them with scale and bias."""

    def __init__(self, encoder: StudentEncoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, text: dict[str, torch.Tensor], desc: dict[str, torch.Tensor]):
        t = self.encoder(text["input_ids"], text["attention_mask"])
        d = self.encoder(desc["input_ids"], desc["attention_mask"])
        return t, d, self.encoder.logit_scale.exp(), self.encoder.logit_bias


def build_model(cfg: TrainConfig) -> StudentEncoder:
    from transformers import AutoModel

    source = resolve_checkpoint(cfg.base_model)
    meta = {
        "projection_dim": cfg.projection_dim or None,
        "max_seq_length": cfg.max_seq_length,
        "logit_scale": cfg.logit_scale_init,
        "logit_bias": cfg.logit_bias_init,
        "base_model": str(cfg.base_model),
    }
    transformer = AutoModel.from_pretrained(
        str(source), hidden_dropout_prob=cfg.dropout, attention_probs_dropout_prob=cfg.dropout
    )
    if cfg.keep_layers:
        keep_layers(transformer, cfg.keep_layers)
    encoder = StudentEncoder(transformer, {**meta, "label_templates": list(cfg.label_templates)})
    encoder.source = source
    if encoder.projection is not None:  # start as a random rotation-like map so cosines start sensible
        nn.init.orthogonal_(encoder.projection.weight)
    freeze_lower_layers(encoder, cfg.freeze_layers)
    return encoder


def keep_layers(transformer: nn.Module, layers: list[int]) -> None:
    """Layer dropping: keep the listed transformer layers, in order (a smaller student starts from them)."""
    stack = transformer.encoder.layer
    if sorted(set(layers)) != list(layers) or not 0 <= layers[0] <= layers[-1] < len(stack):
        raise TrainConfigError(f"keep_layers {layers} must be increasing indices of the {len(stack)} layers")
    transformer.encoder.layer = nn.ModuleList([stack[i] for i in layers])
    transformer.config.num_hidden_layers = len(layers)


def freeze_lower_layers(encoder: StudentEncoder, n_layers: int) -> None:
    """Freeze the embeddings and the first `n_layers` layers; the unused BERT pooler is always frozen
    (DDP refuses parameters that get no gradient)."""
    bert = encoder.transformer
    for p in getattr(bert, "pooler", None).parameters() if getattr(bert, "pooler", None) is not None else ():
        p.requires_grad_(False)
    if n_layers <= 0:
        return
    for module in [bert.embeddings, *bert.encoder.layer[:n_layers]]:
        for p in module.parameters():
            p.requires_grad_(False)


def make_optimizer(encoder: StudentEncoder, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW: encoder weights at lr (no decay on biases/LayerNorm), scoring head at head_lr."""
    head = {id(encoder.logit_scale), id(encoder.logit_bias)}
    if encoder.projection is not None:
        head.add(id(encoder.projection.weight))
    decay, no_decay, head_params = [], [], []
    for p in encoder.parameters():
        if not p.requires_grad:
            continue
        if id(p) in head:
            head_params.append(p)
        elif p.ndim < 2:
            no_decay.append(p)
        else:
            decay.append(p)
    groups = [
        {"params": decay, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "lr": cfg.lr, "weight_decay": 0.0},
        {"params": head_params, "lr": cfg.head_lr, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, betas=(0.9, 0.999), eps=1e-6)


def make_scheduler(optimizer: torch.optim.Optimizer, total: int, warmup: int) -> LRScheduler:
    """Linear warm-up over `warmup` steps from lr/warmup to lr, then cosine decay towards zero at `total`.

    Step s runs at lr * (s + 1) / warmup while s < warmup, then lr * (1 + cos(pi * (s - warmup) /
    (total - warmup))) / 2; call `step()` after each optimizer step.
    """
    sched = torch.optim.lr_scheduler
    cosine = sched.CosineAnnealingLR(optimizer, T_max=max(1, total - warmup), eta_min=0.0)
    if warmup <= 0:
        return cosine
    ramp = sched.LinearLR(optimizer, start_factor=1.0 / warmup, end_factor=1.0, total_iters=warmup - 1)
    return sched.SequentialLR(optimizer, [ramp, cosine], milestones=[warmup])


# -- 4. loop helpers -----------------------------------------------------------------------------
def tokenize(tokenizer, texts: list[str], max_length: int) -> dict[str, torch.Tensor]:
    """Token ids as the bundle will make them: emoji become their names first (emolite.emoji)."""
    names = default_names()
    enc = tokenizer([names.apply(t) for t in texts], padding=True, truncation=True, max_length=max_length,
                    return_tensors="pt")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def local_slice(batch: data.Batch, rank: int, world_size: int) -> tuple[list[str], list[str], torch.Tensor]:
    """This process's texts and descriptor shard; targets are local texts x all descriptors."""
    t0, t1 = loss.shard_bounds(len(batch.texts), rank, world_size)
    d0, d1 = loss.shard_bounds(len(batch.descriptors), rank, world_size)
    targets = torch.tensor(batch.targets[t0:t1], dtype=torch.float32)
    return batch.texts[t0:t1], batch.descriptors[d0:d1], targets


def train_step(
    model: nn.Module,
    tokenizer: Any,
    batch: data.Batch,
    cfg: TrainConfig,
    optimizer: torch.optim.Optimizer,
    scheduler: LRScheduler,
    rank: int,
    world_size: int,
    anchors: dict[int, torch.Tensor] | None = None,
) -> float:
    texts, descs, targets = local_slice(batch, rank, world_size)
    t, d, scale, bias = model(tokenize(tokenizer, texts, cfg.max_seq_length), tokenize(tokenizer, descs, 64))
    d = loss.gather_descriptors(d, len(batch.descriptors))
    value = loss.contrastive_loss(cfg.loss, t, d, targets, scale, bias, cfg.pos_weight)
    optimizer.zero_grad(set_to_none=True)
    value.backward()
    if cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], cfg.grad_clip)
    optimizer.step()
    if anchors:
        pull_toward(anchors, optimizer, cfg.base_decay)
    scheduler.step()
    return mean_across(value.detach(), world_size)


def anchor_weights(optimizer: torch.optim.Optimizer) -> dict[int, torch.Tensor]:
    """The encoder weights as the run starts (the base encoder's), by parameter id: base_decay's centre."""
    return {id(p): p.detach().clone() for group in optimizer.param_groups[:2] for p in group["params"]}


def pull_toward(anchors: dict[int, torch.Tensor], optimizer: torch.optim.Optimizer, strength: float) -> None:
    """Decoupled L2-SP (Li et al., 2018): AdamW's decay, centred on the starting weights instead of zero, so
    each step moves every encoder weight lr * strength of the way back to where the base encoder had it."""
    with torch.no_grad():
        for group in optimizer.param_groups[:2]:
            for p in group["params"]:
                p.sub_(p - anchors[id(p)], alpha=group["lr"] * strength)


def mean_across(value: torch.Tensor, world_size: int) -> float:
    if world_size > 1:
        import torch.distributed as dist

        dist.all_reduce(value)
        value = value / world_size
    return float(value)


def heldout_scores(encoder: StudentEncoder, d: Data, cfg: TrainConfig) -> dict[str, float]:
    """Teacher-label agreement on the held-out texts (GoEmotions labels): macro-AP and best-threshold F1."""
    scorer = TorchScorer(encoder, thresholds={}, batch_size=cfg.eval_batch_size)
    view = scorer.label_set("goemotions")
    gold = calibrate.teacher_matrix([ex.labels for ex in d.heldout], view)
    probs = view.probabilities(scorer.embed([ex.text for ex in d.heldout]), scorer.logit_scale, scorer.logit_bias)
    t, f1 = calibrate.best_global(probs, gold)
    at_half = scoring.decide(probs, np.full(len(view.labels), 0.5, np.float32), True)
    return {
        "heldout_macro_ap": round(macro_ap(probs, gold), 4),
        "heldout_macro_f1": round(f1, 4),
        "heldout_threshold": t,
        "heldout_macro_f1_at_0.5": round(macro_f1(at_half, gold), 4),
    }


# -- checkpoints ---------------------------------------------------------------------------------
def save_epoch(
    out: Path,
    epoch: int,
    encoder: StudentEncoder,
    tokenizer: Any,
    optimizer: torch.optim.Optimizer,
    scheduler: LRScheduler,
    state: dict,
    cfg: TrainConfig,
) -> Path:
    folder = encoder.save_pretrained(out / f"epoch-{epoch}", tokenizer, label_templates=list(cfg.label_templates))
    blob = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "state": state}
    torch.save(blob, folder / "trainer_state.pt")
    (folder / "config.toml").write_text(to_toml(cfg))
    return folder


def latest_epoch(out: Path) -> int:
    done = [int(p.name.split("-")[1]) for p in out.glob("epoch-*") if (p / "trainer_state.pt").is_file()]
    return max(done, default=0)


def resume(
    out: Path, encoder: StudentEncoder, optimizer: torch.optim.Optimizer, scheduler: LRScheduler, cfg: TrainConfig
) -> dict:
    """Load the last complete epoch's weights, optimizer and schedule; the run continues with the next epoch."""
    epoch = latest_epoch(out)
    if epoch == 0:
        return {"epoch": 0, "step": 0, "history": [], "losses": []}
    folder = out / f"epoch-{epoch}"
    saved = load_config(folder / "config.toml")
    if config_hash(saved) != config_hash(cfg):
        raise TrainConfigError(f"{out} holds a run with a different config; use a new --out or the same config")
    from transformers import AutoModel

    encoder.transformer.load_state_dict(AutoModel.from_pretrained(str(folder)).state_dict())
    encoder.load_head(torch.load(folder / "head.pt", map_location="cpu", weights_only=True))
    blob = torch.load(folder / "trainer_state.pt", map_location="cpu", weights_only=False)
    if "scheduler" not in blob:
        raise TrainConfigError(f"{folder} was saved without its learning-rate schedule; start a new --out")
    optimizer.load_state_dict(blob["optimizer"])
    scheduler.load_state_dict(blob["scheduler"])
    log.info("resuming after epoch %d (step %d)", epoch, blob["state"]["step"])
    return blob["state"]


def calibrate_encoder(encoder: StudentEncoder, d: Data, cfg: TrainConfig) -> tuple[dict, dict, dict]:
    """(thresholds, per-set calibration, report) on the held-out teacher labels, as the config asks."""
    scorer = TorchScorer(encoder, thresholds={}, batch_size=cfg.eval_batch_size, members=cfg.label_members,
                         calibration={})
    texts, keys = [ex.text for ex in d.heldout], [ex.labels for ex in d.heldout]
    if cfg.probability_calibration == "platt":
        sets = list(dict.fromkeys([*cfg.calibrate_label_sets, *DEFAULT_LABEL_SETS]))
        thresholds, calibration, report = calibrate.calibrate_sets(
            scorer, texts, keys, sets, cfg.calibration_min_support, cfg.calibration_shrink
        )
        return thresholds, calibration, report
    if cfg.probability_calibration != "none":
        raise TrainConfigError(f"probability_calibration must be 'none' or 'platt', got {cfg.probability_calibration!r}")
    thresholds, report = calibrate.fit_thresholds(
        scorer, texts, keys, cfg.calibrate_label_sets, cfg.calibration, cfg.calibration_min_support,
        cfg.calibration_shrink, cfg.calibration_same_name,
    )
    return thresholds, {}, report


def write_best(out: Path, d: Data, state: dict, cfg: TrainConfig) -> Path:
    """Calibrate the best epoch on held-out teacher labels and save it as OUT/best."""
    best = max(state["history"], key=lambda h: h["heldout_macro_ap"])
    encoder = StudentEncoder.from_pretrained(out / f"epoch-{best['epoch']}")
    target = save_calibrated(encoder, out / "best", d, cfg, {
        "selected_epoch": best["epoch"], "history": state["history"], "seconds": state.get("seconds")
    }, load_tokenizer(out / f"epoch-{best['epoch']}"))
    log.info("best epoch %d (held-out macro-AP %.4f) -> %s", best["epoch"], best["heldout_macro_ap"], target)
    return target


def save_calibrated(encoder: StudentEncoder, target: Path, d: Data, cfg: TrainConfig, run: dict, tokenizer) -> Path:
    """Calibrate `encoder` and save it with its training record (data, config, calibration) at `target`."""
    thresholds, calibration, report = calibrate_encoder(encoder, d, cfg)
    training = {
        "teacher": cfg.teacher or "any teacher in the store",
        "data": {
            "store": cfg.store,
            "split": cfg.split,
            "train_texts": len(d.train),
            "heldout_texts": len(d.heldout),
            "label_keys": d.vocab,
            "human_labels_used": False,
        },
        "config": dataclasses.asdict(cfg),
        "config_hash": config_hash(cfg),
        **run,
        "calibration": {
            "strategy": cfg.calibration,
            "probability_calibration": cfg.probability_calibration,
            "source": "held-out teacher labels",
            "report": report,
        },
    }
    if target.exists():
        shutil.rmtree(target)
    encoder.save_pretrained(
        target, tokenizer, label_templates=list(cfg.label_templates), thresholds=thresholds, training=training,
        name=cfg.name, calibration=calibration, label_members=cfg.label_members,
    )
    (target / "config.toml").write_text(to_toml(cfg))
    return target


# -- 5. the run ----------------------------------------------------------------------------------
def setup_distributed() -> tuple[int, int]:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return loss.world()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(cfg: TrainConfig, out: str | Path, examples: list[data.Example] | None = None) -> Path:
    """Run (or resume) training into `out`; returns the calibrated best checkpoint folder."""
    out = Path(out)
    rank, world_size = setup_distributed()
    if cfg.batch_size % world_size:
        raise TrainConfigError(f"batch_size {cfg.batch_size} must be divisible by the {world_size} processes")
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    d = prepare_data(cfg, examples)
    encoder = build_model(cfg)
    tokenizer = load_tokenizer(cfg.base_model)
    optimizer = make_optimizer(encoder, cfg)
    model = ContrastivePair(encoder)
    if world_size > 1:
        model = nn.parallel.DistributedDataParallel(model)
    per_epoch = data.steps_per_epoch(len(d.train), cfg.batch_size)
    if per_epoch == 0:
        raise TrainConfigError(f"{len(d.train)} training texts are fewer than one batch of {cfg.batch_size}")
    total = cfg.max_steps or cfg.epochs * per_epoch
    scheduler = make_scheduler(optimizer, total, cfg.warmup_steps)
    out.mkdir(parents=True, exist_ok=True)
    anchors = anchor_weights(optimizer) if cfg.base_decay > 0 else None  # before resume: the base's weights
    state = resume(out, encoder, optimizer, scheduler, cfg)
    started = time.time() - state.get("seconds", 0.0)
    for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
        if state["step"] >= total:
            break
        run_epoch(model, tokenizer, d, cfg, optimizer, scheduler, state, epoch, total, rank, world_size, anchors)
        state["epoch"], state["seconds"] = epoch, round(time.time() - started, 1)
        if rank == 0:
            state["history"].append({"epoch": epoch, "step": state["step"], **heldout_scores(encoder, d, cfg)})
            log.info("epoch %d: %s", epoch, state["history"][-1])
            save_epoch(out, epoch, encoder, tokenizer, optimizer, scheduler, state, cfg)
            write_log(out, state)
        barrier(world_size)
    best = write_best(out, d, state, cfg) if rank == 0 else out / "best"
    barrier(world_size)
    return best


def run_epoch(
    model: nn.Module,
    tokenizer: Any,
    d: Data,
    cfg: TrainConfig,
    optimizer: torch.optim.Optimizer,
    scheduler: LRScheduler,
    state: dict,
    epoch: int,
    total: int,
    rank: int,
    world_size: int,
    anchors: dict[int, torch.Tensor] | None = None,
) -> None:
    from tqdm.auto import tqdm

    model.train()
    batches = data.epoch_batches(
        d.train, d.vocab, d.views, cfg.batch_size, cfg.views_per_label, cfg.seed, epoch, cfg.max_descriptors
    )
    n = min(data.steps_per_epoch(len(d.train), cfg.batch_size), total - state["step"])
    bar = tqdm(total=n, desc=f"epoch {epoch}/{cfg.epochs}", disable=rank != 0, leave=False)
    for batch, _ in zip(batches, range(n)):
        value = train_step(model, tokenizer, batch, cfg, optimizer, scheduler, rank, world_size, anchors)
        state["losses"].append(round(value, 6))
        state["step"] += 1
        bar.set_postfix(loss=f"{value:.4f}")
        bar.update()
    bar.close()


def write_log(out: Path, state: dict) -> None:
    (out / "train_log.json").write_text(json.dumps({"losses": state["losses"], "history": state["history"]}))


def barrier(world_size: int) -> None:
    if world_size > 1:
        import torch.distributed as dist

        dist.barrier()
