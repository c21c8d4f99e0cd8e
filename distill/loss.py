"""Contrastive losses between text and descriptor embeddings: pairwise sigmoid (SigLIP) and InfoNCE.

Both are stateless: the learnable scale and bias belong to the encoder and are passed in (open_clip's
`SigLipLoss` recipe). A text may have several positive descriptors, so targets are a 0/1 matrix
(texts x descriptors) rather than the diagonal of a paired batch.

Under DistributedDataParallel each process encodes a shard of the descriptor vocabulary; the shards are
gathered (with gradient) into the full vocabulary before the loss, so every process scores its texts
against the same descriptors as a single-process run would. The gather lives in its own function and is
skipped at world size 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pair_logits(
    text: torch.Tensor, descriptors: torch.Tensor, logit_scale: torch.Tensor, logit_bias: torch.Tensor | None = None
) -> torch.Tensor:
    """scale * cos(text, descriptor) + bias for every pair; inputs are L2-normalised, scale is positive."""
    logits = logit_scale * text @ descriptors.T
    return logits if logit_bias is None else logits + logit_bias


def sigmoid_loss(
    text: torch.Tensor,
    descriptors: torch.Tensor,
    targets: torch.Tensor,
    logit_scale: torch.Tensor,
    logit_bias: torch.Tensor,
    pos_weight: float = 1.0,
) -> torch.Tensor:
    """SigLIP pairwise loss: -log sigmoid(z * logit) summed over descriptors, averaged over texts.

    `targets` is (n_text, n_desc) with 1 for a positive pair. `pos_weight` up-weights positives, which
    are rare when the vocabulary is large (SigLIP itself uses 1 and a negative bias init instead).
    """
    logits = pair_logits(text, descriptors, logit_scale, logit_bias)
    signs = 2.0 * targets - 1.0
    weights = 1.0 + (pos_weight - 1.0) * targets
    return -(weights * F.logsigmoid(signs * logits)).sum() / text.shape[0]


def infonce_loss(
    text: torch.Tensor, descriptors: torch.Tensor, targets: torch.Tensor, logit_scale: torch.Tensor
) -> torch.Tensor:
    """Multi-positive InfoNCE, text -> descriptors: cross-entropy against the normalised target row.

    Texts without any positive descriptor are skipped (their row carries no signal).
    """
    logits = pair_logits(text, descriptors, logit_scale)
    mass = targets.sum(dim=1, keepdim=True)
    keep = mass.squeeze(1) > 0
    if not bool(keep.any()):
        return logits.sum() * 0.0
    soft = targets[keep] / mass[keep]
    return -(soft * F.log_softmax(logits[keep], dim=1)).sum() / text.shape[0]


def contrastive_loss(
    kind: str,
    text: torch.Tensor,
    descriptors: torch.Tensor,
    targets: torch.Tensor,
    logit_scale: torch.Tensor,
    logit_bias: torch.Tensor,
    pos_weight: float = 1.0,
) -> torch.Tensor:
    """Dispatch on the config's `loss` name ('sigmoid' or 'infonce')."""
    if kind == "sigmoid":
        return sigmoid_loss(text, descriptors, targets, logit_scale, logit_bias, pos_weight)
    if kind == "infonce":
        return infonce_loss(text, descriptors, targets, logit_scale)
    raise ValueError(f"unknown loss '{kind}'; choose 'sigmoid' or 'infonce'")


# -- distributed ---------------------------------------------------------------------------------
def world() -> tuple[int, int]:
    """(rank, world_size) of the default process group, (0, 1) when not distributed."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard_bounds(n: int, rank: int, world_size: int) -> tuple[int, int]:
    """Contiguous [start, end) of `n` items owned by `rank`; sizes differ by at most one."""
    base, extra = divmod(n, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def gather_shards(local: torch.Tensor, sizes: list[int]) -> torch.Tensor:
    """Concatenate every process's (size_r, dim) shard in rank order, keeping the gradient to each shard.

    The autograd all_gather sums, in backward, the gradients that all processes send to a shard, so that
    DDP's gradient averaging yields exactly the single-process gradient of the mean loss.
    """
    import torch.distributed.nn.functional as dist_fn

    width = max(sizes)
    padded = F.pad(local, (0, 0, 0, width - local.shape[0]))
    parts = dist_fn.all_gather(padded)
    return torch.cat([part[:size] for part, size in zip(parts, sizes)])


def gather_descriptors(local: torch.Tensor, n_total: int) -> torch.Tensor:
    """The full descriptor matrix from per-process shards; the identity at world size 1."""
    rank, world_size = world()
    if world_size == 1:
        return local
    sizes = [end - start for start, end in (shard_bounds(n_total, r, world_size) for r in range(world_size))]
    return gather_shards(local, sizes)
