"""The reference models: the paper's CNN, its adversarial training, FraudNet and its data."""

import numpy as np
import pytest
from extras import need

need("torch")

import torch
from torch import nn

from reference_models.fraudnet import (BOUNDS, FEATURES, FRAUDNET_TRAINING, SECURING_EPS, FraudNet,
                                       generate_transactions, risk_score, standardized_domain, transactions_split)
from reference_models.normalization import Normalize
from reference_models.paper_cnn import PAPER_ADVERSARIAL, PAPER_TRAINING, build_paper_cnn
from reference_models.training import AdversarialConfig, adversarial_training, mixed_loss


def layers_of(model, kind):
    return [module for module in model if isinstance(module, kind)]


# --- the paper's CNN ---------------------------------------------------------------

def test_cifar_cnn_has_the_papers_convolutions_each_with_batchnorm_relu_and_pool():
    model = build_paper_cnn()
    convs = layers_of(model, nn.Conv2d)
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (3, 64, (3, 3)), (64, 128, (3, 3)), (128, 256, (3, 3)), (256, 512, (3, 3))]
    assert [b.num_features for b in layers_of(model, nn.BatchNorm2d)] == [64, 128, 256, 512]
    assert len(layers_of(model, nn.MaxPool2d)) == 4
    kinds = [type(m) for m in model]
    for index in (kinds.index(nn.Conv2d, i) for i in range(len(kinds)) if kinds[i] is nn.Conv2d):
        assert kinds[index:index + 4] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d]


def test_cifar_cnn_has_dropout_then_fully_connected_2048_1024_512_10():
    model = build_paper_cnn()
    assert [m.p for m in layers_of(model, nn.Dropout)] == [0.5]
    assert [(fc.in_features, fc.out_features) for fc in layers_of(model, nn.Linear)] == [
        (2048, 1024), (1024, 512), (512, 10)]
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_cifar_cnn_has_4181002_parameters():
    # convolutions 9*in*out + out, BatchNorm 2*out, then 2048*1024+1024, 1024*512+512, 512*10+10
    assert sum(p.numel() for p in build_paper_cnn().parameters()) == 4_181_002


def test_digits_variant_skips_the_last_pool_so_the_first_fc_takes_512():
    model = build_paper_cnn(in_channels=1, image_size=8)
    assert len(layers_of(model, nn.MaxPool2d)) == 3
    assert layers_of(model, nn.Linear)[0].in_features == 512
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_other_image_sizes_are_refused():
    with pytest.raises(ValueError, match="image_size must be 32"):
        build_paper_cnn(image_size=28)


def test_normalization_is_the_first_module_and_the_model_takes_pixels():
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]
    model = build_paper_cnn(mean=mean, std=std).eval()
    assert isinstance(model[0], Normalize)
    x = torch.rand(3, 3, 32, 32)
    by_hand = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    assert torch.allclose(model(x), model[1:](by_hand), atol=1e-5)


def test_normalization_statistics_are_saved_with_the_weights_and_not_trained():
    model = build_paper_cnn(mean=[0.5, 0.4, 0.3], std=[0.2, 0.25, 0.3])
    assert torch.equal(model.state_dict()["0.mean"], torch.tensor([0.5, 0.4, 0.3]))
    assert not any(name.startswith("0.") for name, _ in model.named_parameters())


def test_normalize_fit_takes_per_channel_statistics_of_the_training_images():
    X = np.stack([np.full((4, 4), 0.2), np.full((4, 4), 0.6)])[None].repeat(3, axis=0)
    X[1, 0] = 0.4
    layer = Normalize.fit(X)
    assert np.allclose(layer.mean.numpy(), [X[:, 0].mean(), 0.6])
    assert np.allclose(layer.std.numpy(), [X[:, 0].std(), 1.0])  # a constant channel keeps std 1


def test_training_recipes_are_the_papers():
    assert (PAPER_TRAINING.epochs, PAPER_TRAINING.batch_size, PAPER_TRAINING.lr) == (10, 64, 1e-3)
    assert (PAPER_ADVERSARIAL.epochs, PAPER_ADVERSARIAL.eps, PAPER_ADVERSARIAL.clean_weight) == (10, 0.1, 0.3)
    assert (PAPER_ADVERSARIAL.lr_step, PAPER_ADVERSARIAL.lr_gamma, PAPER_ADVERSARIAL.batch_size) == (5, 0.1, 64)


# --- adversarial training -----------------------------------------------------------

def test_mixed_loss_weights_clean_by_0_3_and_adversarial_by_0_7():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    x, x_adv, y = torch.randn(8, 4), torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])

    def ce(inputs):
        log_p = torch.log_softmax(model(inputs), dim=1)
        return -log_p[torch.arange(8), y].mean()

    assert torch.allclose(mixed_loss(model, x, x_adv, y, 0.3), 0.3 * ce(x) + 0.7 * ce(x_adv))


class ModeRecorder(nn.Module):
    """A tiny classifier that logs whether it was in train mode at each forward pass."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.modes = []

    def forward(self, x):
        self.modes.append(self.training)
        return self.linear(x)


def test_adversarial_examples_are_crafted_in_eval_mode_and_weights_updated_in_train_mode():
    model = ModeRecorder()
    X, y = np.random.default_rng(0).random((4, 2), dtype=np.float32), np.array([0, 1, 0, 1])
    adversarial_training(model, X, y, AdversarialConfig(epochs=1, batch_size=4))
    assert model.modes == [False, True, True]  # craft (eval), clean loss, adversarial loss
    assert model.training is False


def test_adversarial_training_uses_fgsm_examples_of_the_model_in_eval_mode(monkeypatch):
    import copy

    from reference_models import training

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    before = copy.deepcopy(model).eval()
    seen = []

    def spy(module, x, x_adv, y, clean_weight):
        seen.append((x, x_adv, y))
        return mixed_loss(module, x, x_adv, y, clean_weight)

    monkeypatch.setattr(training, "mixed_loss", spy)
    X, y = np.array([[0.2, 0.7], [0.9, 0.1]], dtype=np.float32), np.array([0, 1])
    adversarial_training(model, X, y, AdversarialConfig(eps=0.1, epochs=1, batch_size=2))

    x, x_adv, labels = seen[0]
    x = x.clone().requires_grad_(True)
    torch.nn.functional.cross_entropy(before(x), labels).backward()
    assert torch.equal(x_adv, torch.clamp(x + 0.1 * x.grad.sign(), 0.0, 1.0).detach())


# --- FraudNet and its data ----------------------------------------------------------

def test_fraudnet_is_standardize_then_in_32_16_2_with_relu():
    model = FraudNet(np.zeros(5), np.ones(5))
    assert isinstance(model.standardize, Normalize)
    assert [(m.in_features, m.out_features) for m in layers_of(model.network, nn.Linear)] == [(5, 32), (32, 16), (16, 2)]
    assert len(layers_of(model.network, nn.ReLU)) == 2
    assert (FRAUDNET_TRAINING.epochs, FRAUDNET_TRAINING.batch_size, FRAUDNET_TRAINING.lr) == (25, 64, 0.01)
    assert SECURING_EPS == (0.1, 0.25, 0.35, 0.5)


def test_fraudnet_takes_raw_features_and_standardizes_them_itself():
    X, _ = generate_transactions(200, seed=1)
    model = FraudNet.for_data(X).eval()
    standardized = (X - X.mean(axis=0)) / X.std(axis=0)
    assert torch.allclose(model(torch.as_tensor(X)), model.network(torch.as_tensor(standardized, dtype=torch.float32)),
                          atol=1e-4)


def test_generated_transactions_are_exactly_20_percent_fraud_with_five_features():
    X, y = generate_transactions(1000, seed=3)
    assert X.shape == (1000, 5) and len(FEATURES) == 5
    assert int(y.sum()) == 200


def test_generated_transactions_label_the_riskiest_fifth_as_fraud():
    X, y = generate_transactions(1000, seed=3)
    score = risk_score(X)
    assert score[y == 1].min() > score[y == 0].max()


def test_generated_transactions_stay_in_their_declared_bounds():
    X, _ = generate_transactions(5000, seed=0)
    low, high = np.array(BOUNDS).T
    assert (X >= low).all() and (X <= high).all()
    assert set(np.unique(X[:, 2])) <= set(range(11))  # bounced checks are counts


def test_generated_transactions_are_determined_by_the_seed():
    first, again, other = generate_transactions(300, seed=7), generate_transactions(300, seed=7), generate_transactions(300, seed=8)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_transactions_split_is_stratified_70_30():
    split = transactions_split(n=1000, seed=0)
    assert (len(split.y_train), len(split.y_test)) == (700, 300)
    assert (split.y_train.mean(), split.y_test.mean()) == (0.2, 0.2)


def test_fgsm_in_standardized_units_is_raw_fgsm_with_per_feature_budget_eps_times_std():
    from pytest_mlaudit.adapters import TorchClassifier
    from pytest_mlaudit import FGSM

    split = transactions_split(n=400, seed=2)
    torch.manual_seed(0)
    model = FraudNet.for_data(split.X_train).eval()
    network, X_std, (low, high) = standardized_domain(model, split.X_test, split.bounds)
    y = torch.as_tensor(split.y_test)
    x_adv_std = FGSM(eps=0.35).generate(TorchClassifier(network, device="cpu"), torch.as_tensor(X_std), y,
                                       (torch.as_tensor(low), torch.as_tensor(high)))

    x_raw = torch.as_tensor(split.X_test).requires_grad_(True)
    torch.nn.functional.cross_entropy(model(x_raw), y, reduction="sum").backward()
    raw_low, raw_high = (torch.as_tensor(b) for b in split.bounds)
    x_adv_raw = torch.clamp(x_raw + 0.35 * model.standardize.std * x_raw.grad.sign(), raw_low, raw_high)
    assert torch.allclose(model.standardize(x_adv_raw.detach()), x_adv_std, atol=1e-4)
