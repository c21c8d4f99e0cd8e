"""The contrastive losses against naive references, and the distributed gather against one process."""

from __future__ import annotations

import math
import socket

import pytest
import torch
import torch.nn.functional as F

from emolite.distill import loss


def _inputs(seed: int = 0, n_text: int = 6, n_desc: int = 5, dim: int = 8):
    g = torch.Generator().manual_seed(seed)
    text = F.normalize(torch.randn(n_text, dim, generator=g), dim=-1).requires_grad_()
    desc = F.normalize(torch.randn(n_desc, dim, generator=g), dim=-1).requires_grad_()
    targets = (torch.rand(n_text, n_desc, generator=g) < 0.3).float()
    targets[0] = 0.0  # a text with no positive
    targets[1, :2] = 1.0  # a text with two positives
    return text, desc, targets


def test_sigmoid_loss_matches_pairwise_loop_value_and_gradient():
    text, desc, targets = _inputs()
    scale, bias = torch.tensor(10.0), torch.tensor(-5.0)
    got = loss.sigmoid_loss(text, desc, targets, scale, bias, pos_weight=2.0)
    ref = 0.0
    for i in range(text.shape[0]):
        for j in range(desc.shape[0]):
            logit = scale * torch.dot(text[i], desc[j]) + bias
            y = targets[i, j]
            ref = ref - (2.0 if y else 1.0) * F.logsigmoid(logit if y else -logit)
    ref = ref / text.shape[0]
    assert torch.allclose(got, ref, atol=1e-5)
    g_got = torch.autograd.grad(got, (text, desc))
    g_ref = torch.autograd.grad(ref, (text, desc))
    for a, b in zip(g_got, g_ref):
        assert torch.allclose(a, b, atol=1e-5)


def test_sigmoid_loss_equals_bce_with_logits_sum():
    text, desc, targets = _inputs(1)
    scale, bias = torch.tensor(7.0), torch.tensor(-3.0)
    logits = scale * text @ desc.T + bias
    ref = F.binary_cross_entropy_with_logits(logits, targets, reduction="sum") / text.shape[0]
    assert torch.allclose(loss.sigmoid_loss(text, desc, targets, scale, bias), ref, atol=1e-5)


def test_infonce_single_positive_is_cross_entropy_and_skips_empty_rows():
    text, desc, _ = _inputs(2)
    labels = torch.tensor([0, 3, 1, 4, 2, 0])
    targets = F.one_hot(labels, desc.shape[0]).float()
    scale = torch.tensor(20.0)
    ref = F.cross_entropy(scale * text @ desc.T, labels)
    assert torch.allclose(loss.infonce_loss(text, desc, targets, scale), ref, atol=1e-5)
    targets[0] = 0.0  # the row without positives contributes nothing, the mean keeps the full batch size
    ref_skip = F.cross_entropy(scale * text[1:] @ desc.T, labels[1:], reduction="sum") / text.shape[0]
    assert torch.allclose(loss.infonce_loss(text, desc, targets, scale), ref_skip, atol=1e-5)


def test_infonce_multi_positive_spreads_target_mass():
    text, desc, _ = _inputs(3)
    text = text[:1]
    targets = torch.tensor([[1.0, 1.0, 0.0, 0.0, 0.0]])
    logp = F.log_softmax(5.0 * text @ desc.T, dim=1)
    expected = -(logp[0, 0] + logp[0, 1]) / 2
    assert math.isclose(float(loss.infonce_loss(text, desc, targets, torch.tensor(5.0))), float(expected), rel_tol=1e-5)


def test_unknown_loss_name_lists_choices():
    text, desc, targets = _inputs()
    with pytest.raises(ValueError, match="sigmoid"):
        loss.contrastive_loss("hinge", text, desc, targets, torch.tensor(1.0), torch.tensor(0.0))


@pytest.mark.parametrize("n,world", [(28, 2), (28, 3), (5, 4), (3, 5)])
def test_shard_bounds_partition(n, world):
    bounds = [loss.shard_bounds(n, r, world) for r in range(world)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    sizes = [e - s for s, e in bounds]
    assert max(sizes) - min(sizes) <= 1


def test_gather_is_identity_without_process_group():
    _, desc, _ = _inputs()
    assert loss.world() == (0, 1)
    assert loss.gather_descriptors(desc, desc.shape[0]) is desc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, queue) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    text, desc, targets = _inputs(4, n_text=6, n_desc=7)
    t0, t1 = loss.shard_bounds(6, rank, world)
    d0, d1 = loss.shard_bounds(7, rank, world)
    local_desc = desc.detach()[d0:d1].clone().requires_grad_()
    local_text = text.detach()[t0:t1].clone().requires_grad_()
    full = loss.gather_descriptors(local_desc, 7)
    value = loss.sigmoid_loss(local_text, full, targets[t0:t1], torch.tensor(10.0), torch.tensor(-5.0))
    value.backward()
    queue.put((rank, float(value), local_text.grad.tolist(), local_desc.grad.tolist()))
    # Both ranks reach teardown together: a rank that closes its gloo pairs while the other still uses them
    # can abort the other ("terminate called without an active exception").
    dist.barrier()
    dist.destroy_process_group()


def test_two_process_gather_gives_single_process_loss_and_gradients():
    """Mean of local losses = global loss; DDP-averaged (sum/world) shard gradients = global gradients."""
    import torch.multiprocessing as mp

    world = 2
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(r, world, _free_port_once(), queue)) for r in range(world)]
    for p in procs:
        p.start()
    results = sorted(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    text, desc, targets = _inputs(4, n_text=6, n_desc=7)
    ref = loss.sigmoid_loss(text, desc, targets, torch.tensor(10.0), torch.tensor(-5.0))
    g_text, g_desc = torch.autograd.grad(ref, (text, desc))
    assert math.isclose(sum(r[1] for r in results) / world, float(ref), rel_tol=1e-5)
    # Each process's loss is a mean over its half of the texts, so its gradients are world x the global ones.
    assert torch.allclose(torch.tensor([row for r in results for row in r[2]]) / world, g_text, atol=1e-5)
    assert torch.allclose(torch.tensor([row for r in results for row in r[3]]) / world, g_desc, atol=1e-5)


_PORT: list[int] = []


def _free_port_once() -> int:
    if not _PORT:
        _PORT.append(_free_port())
    return _PORT[0]
