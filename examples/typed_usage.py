"""The README's Python example, type-checked (`make test` runs mypy on this file): a str gives a Prediction,
a list gives a list of them, scores give a numpy array."""

from __future__ import annotations

import numpy as np

import emolite

clf: emolite.Classifier = emolite.load()
one: emolite.Prediction = clf.predict("I can't believe I won!")
top: list[str] = one.predicted
many: list[emolite.Prediction] = clf.predict(["I am furious", "what a lovely day"], labels="ekman")
custom: emolite.Prediction = clf.predict("the old house by the lake", labels=["nostalgia", "hope", "dread"])
by_label: dict[str, float] = custom.as_dict()
matrix: np.ndarray = clf.scores(["I am furious", "what a lovely day"], ["anger", "joy"])
first_of_many: str = many[0].labels[0]
adapted: emolite.Classifier = clf.adapt(["a text of my domain", "another one"], labels="carer-6")
