"""The weight cache: keyed entries, round trips, and refusal of files it did not write."""

import json
import pickle

import pytest
from extras import need

need("torch")

import torch
from torch import nn

from reference_models import cache


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("MLAUDIT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


class Trainer:
    """Counts its calls and sets recognisable weights."""

    def __init__(self, value=1.5):
        self.calls, self.value = 0, value

    def __call__(self, model):
        self.calls += 1
        with torch.no_grad():
            model.weight.fill_(self.value)


def entry(trainer, config=None, data="fp"):
    return cache.cached_weights(nn.Linear(2, 2), "net", config or {"epochs": 1}, data, trainer)


def test_second_call_loads_the_weights_without_training():
    trainer = Trainer()
    _, first_from_cache = entry(trainer)
    model, second_from_cache = entry(trainer)
    assert (first_from_cache, second_from_cache, trainer.calls) == (False, True, 1)
    assert torch.equal(model.weight, torch.full((2, 2), 1.5))


def test_another_configuration_or_data_is_another_entry():
    trainer = Trainer()
    entry(trainer)
    entry(trainer, config={"epochs": 2})
    entry(trainer, data="other")
    assert trainer.calls == 3


def test_the_key_depends_on_library_versions(monkeypatch):
    before = cache.cache_key("net", {}, "fp")
    monkeypatch.setattr(torch, "__version__", "0.0.1")
    assert cache.cache_key("net", {}, "fp") != before


def test_a_corrupted_entry_is_reported_and_retrained():
    trainer = Trainer()
    entry(trainer)
    path = cache.entry_path("net", {"epochs": 1}, "fp")
    path.write_bytes(path.read_bytes()[:40])
    with pytest.warns(UserWarning, match="checksum mismatch"):
        _, from_cache = entry(trainer)
    assert (from_cache, trainer.calls) == (False, 2)
    assert entry(trainer)[1] is True  # the retrained entry is valid again


class Payload:
    """A pickle that runs code when unpickled: it would create ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def plant_foreign_file(tmp_path, forge_side_file):
    marker = tmp_path / "unpickled"
    path = cache.entry_path("net", {"epochs": 1}, "fp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as stream:
        pickle.dump(Payload(marker), stream)
    if forge_side_file:
        key = cache.cache_key("net", {"epochs": 1}, "fp")
        path.with_suffix(".json").write_text(json.dumps({"key": key, "sha256": cache._sha256(path)}))
    return marker


def test_a_foreign_file_without_our_side_file_is_never_unpickled(tmp_path):
    marker = plant_foreign_file(tmp_path, forge_side_file=False)
    trainer = Trainer()
    with pytest.warns(UserWarning, match="no side file"):
        _, from_cache = entry(trainer)
    assert (from_cache, trainer.calls, marker.exists()) == (False, 1, False)


def test_a_foreign_pickle_with_a_forged_side_file_is_refused_by_weights_only(tmp_path):
    marker = plant_foreign_file(tmp_path, forge_side_file=True)
    trainer = Trainer()
    with pytest.warns(UserWarning, match="Unpickling|weights_only|Weights only"):
        _, from_cache = entry(trainer)
    assert (from_cache, trainer.calls, marker.exists()) == (False, 1, False)


def test_weights_of_another_architecture_are_retrained():
    cache.cached_weights(nn.Linear(3, 3), "net", {"epochs": 1}, "fp", Trainer())
    trainer = Trainer()
    with pytest.warns(UserWarning, match="size mismatch"):
        _, from_cache = entry(trainer)
    assert (from_cache, trainer.calls) == (False, 1)


def test_load_cached_never_trains():
    model = nn.Linear(2, 2)
    assert cache.load_cached(model, "net", {"epochs": 1}, "fp") is False
    entry(Trainer(2.5))
    assert cache.load_cached(model, "net", {"epochs": 1}, "fp") is True
    assert torch.equal(model.weight, torch.full((2, 2), 2.5))


def test_training_announces_itself_through_progress():
    lines = []
    cache.cached_weights(nn.Linear(2, 2), "net", {}, "fp", Trainer(), progress=lines.append)
    cache.cached_weights(nn.Linear(2, 2), "net", {}, "fp", Trainer(), progress=lines.append)
    assert len(lines) == 1 and lines[0].startswith("no cached weights for net: training")
