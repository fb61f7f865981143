"""Checks for notebook 05: one step of training, and batch-norm statistics recomputed before testing."""

from __future__ import annotations

import contextlib
import copy
import functools
import numbers
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..data import RotatedDigits, rotated_mnist
from ..evaluate import recompute_batch_norm as package_recompute_batch_norm
from ..models import P4CNN
from ..train import Step, train_epoch
from .common import attempt, close, fail, passed

StepFunction = Callable[[nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor], object]
Recompute = Callable[[nn.Module, torch.Tensor, int], object]

CHANNELS, DROPOUT = 4, 0.3  # a small P4CNN; its dropout (after blocks 1, 3, 4, 5) feeds the next convolution
STEP_DIGITS, STEPS, LR = 16, 2, 1e-3  # two steps of Adam (Section 8), 16 digits each
BN_DIGITS, BN_BATCH = 48, 12  # the "training set" of the recomputation, in 4 batches
TOLERANCE = 1e-4  # equal up to float32 rounding (a loss summed in another order moves Adam's step a little)
CPU = torch.device("cpu")


@functools.cache
def sample_digits() -> RotatedDigits:
    """The bundled sample's 2,000 training digits, loaded once."""
    return rotated_mnist("train", "sample")


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Torch on one thread: the checks' networks are small, and more threads would mostly wait."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def draw_digits(seed: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` digits (count, 1, 28, 28) of the sample and their labels, drawn at random."""
    digits = sample_digits()
    idx = torch.randperm(len(digits), generator=torch.Generator().manual_seed(seed))[:count]
    return digits.images[idx], digits.labels[idx]


def as_dataset(images: torch.Tensor, labels: torch.Tensor) -> RotatedDigits:
    """The digits as the package's dataset (what train_epoch and recompute_batch_norm take)."""
    data = copy.copy(sample_digits())
    data.images, data.labels = images, labels
    return data


def small_p4cnn(seed: int) -> P4CNN:
    """A P4CNN of Table 1 with 4 channels and dropout 0.3, its weights drawn at random, in eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = P4CNN(channels=CHANNELS, dropout=DROPOUT)
    return model.eval()


def batch_norms(model: nn.Module) -> dict[str, nn.modules.batchnorm._BatchNorm]:
    """{name: layer} of every batch norm of the model (GroupBatchNorm included)."""
    return {name: m for name, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}


# ---------------------------------------------------------------------------------------------
# Exercise 1: train_step


def package_step(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor,
                 labels: torch.Tensor) -> float:
    """The step of gcnn_edu.train.train_epoch on exactly this batch, digits in this order: its loss."""
    unshuffle = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0)).argsort()
    data = as_dataset(images[unshuffle], labels[unshuffle])  # train_epoch's shuffle puts them back in order
    loss, _ = train_epoch(model, data, Step(optimizer, progress=False), len(labels),
                          torch.Generator().manual_seed(0), CPU, "train_step")
    return loss


def without_zero_grad(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor,
                      labels: torch.Tensor) -> float:
    """The step with the gradients of earlier batches left in w.grad."""
    model.train()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def in_eval_mode(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor,
                 labels: torch.Tensor) -> float:
    """The step without model.train(): running batch-norm statistics, dropout off."""
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def softmax_first(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor,
                  labels: torch.Tensor) -> float:
    """The step with the cross-entropy of softmax(z) instead of z."""
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(torch.softmax(model(images), dim=1), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def zero_grad_after_step(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor,
                         labels: torch.Tensor) -> float:
    """The step that clears the gradients after Adam's step instead of before the backward pass."""
    model.train()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def summed(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor,
           labels: torch.Tensor) -> float:
    """The step on the sum of -log p_y over the batch instead of its mean."""
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels, reduction="sum")
    loss.backward()
    optimizer.step()
    return loss.item()


def nll_of_scores(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor,
                  labels: torch.Tensor) -> float:
    """The step on F.nll_loss of the scores z: the mean of -z_y, no softmax at all."""
    model.train()
    optimizer.zero_grad()
    loss = F.nll_loss(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def softmax_over_batch(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor,
                       labels: torch.Tensor) -> float:
    """The step with log_softmax over the batch axis (dim=0) instead of the classes."""
    model.train()
    optimizer.zero_grad()
    loss = F.nll_loss(F.log_softmax(model(images), dim=0), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def squared_error(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor,
                  labels: torch.Tensor) -> float:
    """The step on the mean squared error between the scores and the one-hot labels."""
    model.train()
    optimizer.zero_grad()
    loss = F.mse_loss(model(images), F.one_hot(labels, 10).to(images.dtype))
    loss.backward()
    optimizer.step()
    return loss.item()


def without_step(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor,
                 labels: torch.Tensor) -> float:
    """The step without optimizer.step(): the weights stay."""
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    return loss.item()


STEP_MISTAKES: list[tuple[StepFunction, str]] = [
    (without_step, "your steps left every weight where it was: `optimizer.step()` is missing (or the "
                   "gradients were cleared between `loss.backward()` and the step), so Adam never moved w"),
    (in_eval_mode, "your step ran the model in eval mode (it arrived in eval mode, as after a test): batch "
                   "norm normalised with its running statistics instead of the batch's own mean and "
                   "variance, and did not update them, and dropout was off. Call `model.train()` first"),
    (softmax_first, "your loss is the cross-entropy of softmax(z): `F.cross_entropy` takes the class scores "
                    "z themselves and applies the softmax inside (l = -log p_y, p = softmax(z)). A second "
                    "softmax gives a loss of at least -log(e / (e + 9)) = 1.46 and flatter gradients"),
    (summed, f"your loss is the sum over the batch, not the mean: {STEP_DIGITS} times the package's, the "
             f"batch size. The loss of the training loop is the mean of -log p_y over the batch "
             f"(`F.cross_entropy`'s default, reduction=\"mean\"). Adam divides by the gradient's size, so "
             f"its step hardly changes, but the loss reported is {STEP_DIGITS} times too large, and so would "
             f"be a plain gradient step"),
    (nll_of_scores, "your loss is the mean of -z_y, the scores themselves (it can be negative): `F.nll_loss` "
                    "expects log-probabilities log p; `F.cross_entropy` takes the scores z and applies the "
                    "log-softmax inside"),
    (softmax_over_batch, "your log-probabilities were normalised over the batch (dim=0), not over the 10 "
                         "classes: p_c = e^{z_c} / sum_j e^{z_j} sums over the classes, dim=1 of the scores "
                         "(B, 10). `F.cross_entropy(z, y)` does it for you"),
    (squared_error, "your loss is the squared error between the scores and the one-hot labels: the loss of "
                    "the training loop is the cross-entropy -log p_y with p = softmax(z), "
                    "`F.cross_entropy(z, y)`"),
    (zero_grad_after_step, "your first step followed this batch's gradient plus the one an earlier backward "
                           "pass had left in w.grad (the check leaves one there, as a previous batch would): "
                           "`loss.backward()` adds dl/dw to w.grad, so clearing the gradients after "
                           "`optimizer.step()` comes too late for the first step. Call "
                           "`optimizer.zero_grad()` before `loss.backward()`"),
    (without_zero_grad, "your steps followed the sum of this batch's gradient and those of the earlier "
                        "backward passes left in w.grad: `loss.backward()` adds dl/dw to w.grad, so clear "
                        "the gradients with `optimizer.zero_grad()` before each backward pass"),
]

LOSS_AFTER_STEP = ("your step returned the loss of the batch computed after `optimizer.step()`, with the "
                   "new weights: return the loss computed before optimizer.step(), the one whose gradient "
                   "the step followed (`loss.item()` of the loss you called `backward` on)")


@dataclass
class Trace:
    """What a run of steps did: the loss each step returned, the weights and statistics after each;
    for the package's steps also the batch's losses after each step (train mode, as a second forward
    pass would give them, and eval mode)."""

    losses: list[object]
    states: list[dict[str, torch.Tensor]]
    after: list[tuple[float, float]]


def stale_gradients(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> None:
    """Leave in w.grad the gradients of a backward pass on another batch (in eval mode: no dropout drawn)."""
    F.cross_entropy(model(images), labels).backward()


def loss_after(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """The batch's loss with the weights after a step: a second forward pass in train mode, and eval mode."""
    with torch.no_grad():
        in_train = F.cross_entropy(copy.deepcopy(model).train()(images), labels).item()
        in_eval = F.cross_entropy(copy.deepcopy(model).eval()(images), labels).item()
    return in_train, in_eval


def take_steps(step: StepFunction, model: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]],
               seed: int, after: bool = False) -> Trace:
    """Adam (learning rate 1e-3) on a copy of `model` with stale gradients in w.grad, one `step` per
    batch (the first batch only leaves its gradients), the same dropout masks."""
    model = copy.deepcopy(model)
    stale_gradients(model, *batches[0])
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    trace = Trace([], [], [])
    for k, (images, labels) in enumerate(batches[1:]):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(1000 * seed + k)  # dropout draws its masks from torch's global generator
            trace.losses.append(step(model, optimizer, images.clone(), labels.clone()))
            if after:  # the generator as the step left it, as for a second forward pass inside the step
                trace.after.append(loss_after(model, images, labels))
        trace.states.append({name: t.detach().clone() for name, t in model.state_dict().items()
                             if t.is_floating_point()})
    return trace


def as_loss(value: object) -> tuple[float, bool]:
    """The loss a step returned, as a float, and whether it came as a tensor."""
    if value is None:
        fail("train_step returned None: return the loss, `loss.item()`")
    if not isinstance(value, torch.Tensor | numbers.Real) or isinstance(value, bool):
        fail(f"train_step should return the loss as a number (`loss.item()`), got {type(value).__name__}")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            fail(f"train_step should return the batch's mean loss, one number; got a tensor of shape "
                 f"{tuple(value.shape)}")
        return float(value.detach()), True
    return float(value), False


def agree(got: float, want: float) -> bool:
    """Two losses equal up to float32 rounding."""
    return abs(got - want) <= TOLERANCE * max(1.0, abs(want))


def difference(got: Trace, want: Trace) -> str | None:
    """Where `got` first departs from `want` (its losses already floats), or None when they agree."""
    for k, (got_loss, want_loss, got_state, want_state) in enumerate(
            zip(got.losses, want.losses, got.states, want.states, strict=True)):
        if not agree(got_loss, want_loss):
            return f"step {k + 1} returned the loss {got_loss:.5f}, the package's step {want_loss:.5f}"
        for name, want_t in want_state.items():
            if not close(got_state[name], want_t, TOLERANCE):
                gap = (got_state[name] - want_t).abs().max().item()
                return f"after step {k + 1}, {name} differs from the package's by up to {gap:.2e}"
    return None


@one_thread()
def check_train_step(train_step: StepFunction, seed: int = 0) -> None:
    """Compare two steps of train_step with those of gcnn_edu.train.train_epoch on a small P4CNN."""
    model = small_p4cnn(seed)
    images, labels = draw_digits(seed, STEP_DIGITS * (STEPS + 1))
    batches = [(images[k::STEPS + 1], labels[k::STEPS + 1]) for k in range(STEPS + 1)]

    def student(m: nn.Module, o: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> object:
        return attempt(train_step, m, o, x, y, name="train_step")

    got = take_steps(student, model, batches, seed)
    as_tensor = [as_loss(value)[1] for value in got.losses]
    got.losses = [as_loss(value)[0] for value in got.losses]
    want = take_steps(package_step, model, batches, seed, after=True)
    mismatch = difference(got, want)
    if mismatch is not None:
        if any(agree(got.losses[0], loss) for loss in want.after[0]):
            fail(LOSS_AFTER_STEP)
        for mistake, message in STEP_MISTAKES:
            if difference(got, take_steps(mistake, model, batches, seed)) is None:
                fail(message)
        fail(f"train_step does not take the step of the training loop: {mismatch} (a P4CNN with "
             f"{CHANNELS} channels, Adam with learning rate {LR:g}, {STEPS} batches of {STEP_DIGITS} digits)")
    note = (" (it returns the loss as a tensor: `loss.item()` gives the number, which a running sum can add "
            "without keeping every batch's graph)") if any(as_tensor) else ""
    passed(f"train_step takes the step of gcnn_edu.train.train_epoch: the same losses, weights and "
           f"batch-norm statistics after {STEPS} steps of Adam on {STEP_DIGITS} digits each, from eval "
           f"mode and with stale gradients in w.grad{note}")


# ---------------------------------------------------------------------------------------------
# Exercise 2: recompute_batch_norm


def trained_p4cnn(seed: int) -> P4CNN:
    """A small P4CNN as training leaves it: in train mode, with running statistics of earlier weights."""
    model = small_p4cnn(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    for bn in batch_norms(model).values():
        bn.running_mean.copy_(0.5 * torch.randn(bn.num_features, generator=gen))
        bn.running_var.copy_(0.5 + torch.rand(bn.num_features, generator=gen))
        bn.num_batches_tracked.fill_(500)
    return model.train()


def statistics(model: nn.Module) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{name: (running_mean, running_var)} of every batch norm."""
    return {name: (bn.running_mean.clone(), bn.running_var.clone())
            for name, bn in batch_norms(model).items()}


def run_recompute(recompute: Recompute, model: nn.Module, images: torch.Tensor, seed: int,
                  ) -> tuple[nn.Module, list[bool]]:
    """A copy of `model` after `recompute` (the same dropout masks each run); the grad mode of each pass."""
    model = copy.deepcopy(model)
    grad_modes: list[bool] = []
    for bn in batch_norms(model).values():
        bn.register_forward_hook(lambda *_: grad_modes.append(torch.is_grad_enabled()))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        recompute(model, images.clone(), BN_BATCH)
    return model, grad_modes


def package_recompute(model: nn.Module, images: torch.Tensor, batch_size: int) -> None:
    """gcnn_edu.evaluate.recompute_batch_norm on these digits."""
    package_recompute_batch_norm(model, as_dataset(images, torch.zeros(len(images), dtype=torch.long)), CPU,
                                 batch_size)


def one_pass(model: nn.Module, images: torch.Tensor, batch_size: int, reset: bool = True,
             momentum: float | None = None, dropout: bool = False, norms_train: bool = True,
             one_batch: bool = False) -> None:
    """The recomputation with some of its parts changed (the known mistakes)."""
    model.train(dropout)  # dropout on in train mode
    for bn in batch_norms(model).values():
        if reset:
            bn.reset_running_stats()
        bn.momentum = momentum
        bn.train(norms_train)
    batch_size = len(images) if one_batch else batch_size
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            model(images[start:start + batch_size])
    model.eval()


RECOMPUTE_MISTAKES: list[tuple[dict, str]] = [
    (dict(reset=False),
     "your statistics still hold the old running values: reset them first (`bn.reset_running_stats()`); "
     "without it the cumulative average counts the old values as the 500 batches the layer had tracked, "
     "and the training digits only as 4 more"),
    (dict(reset=False, momentum=0.1),
     "your statistics still hold the old running values and are an exponential average: reset them "
     "(`bn.reset_running_stats()`) and set `bn.momentum = None` for the plain average of the batches' "
     "statistics"),
    (dict(momentum=0.1),
     "your statistics are an exponential average (momentum 0.1): after K batches the running mean is "
     "sum_k 0.1 * 0.9^(K-k) mu_k plus 0.9^K times the reset value, so the last batches weigh most and the "
     "batch order changes the result. Set `bn.momentum = None` for the cumulative average (1/K) sum_k mu_k"),
    (dict(dropout=True),
     "dropout was on during the pass: the convolution after each dropout saw features zeroed and scaled by "
     "1 / (1 - p), and its batch norm averaged their statistics, unlike at test time. Put the model in eval "
     "mode and only the batch norms in train mode (`model.eval()`, then `bn.train()`)"),
    (dict(norms_train=False),
     "your statistics are the reset values (mean 0, variance 1): in eval mode a batch norm neither uses nor "
     "updates batch statistics. Put the batch norms in train mode for the pass (`bn.train()`)"),
    (dict(reset=False, norms_train=False),
     "your pass did not change the running statistics: in eval mode a batch norm neither uses nor updates "
     "them. Reset them and put the batch norms in train mode for the pass"),
    (dict(one_batch=True),
     f"your statistics are those of one batch of all {BN_DIGITS} digits. In the first batch norm the means "
     "agree, the variances do not: the average of the batches' variances depends on the batches; pass the "
     "digits in batches of batch_size (the variance over all the digits adds the spread of the batch means "
     "around their mean)"),
]

NOTHING_FOUND = ("no batch norm of the network was reset or updated: P4CNN's batch norms are GroupBatchNorm, "
                 "a BatchNorm3d, which `isinstance(m, nn.BatchNorm2d)` does not find; find every batch norm "
                 "with `isinstance(m, torch.nn.modules.batchnorm._BatchNorm)`, as the statement says")
COUNT_KEPT = ("the count of batches was not reset: use reset_running_stats() (it sets running_mean to 0, "
              "running_var to 1 and num_batches_tracked to 0). With momentum None, a batch norm averages in "
              "its k-th batch with weight 1 / num_batches_tracked, and your layers counted on from the 500 "
              "batches of training: the {batches} new batches weighed 1/501 to 1/{last}")


def stats_difference(got: nn.Module, want: nn.Module) -> str | None:
    """The first running statistic of `got` that is not that of `want`, or None when all agree."""
    want_stats = statistics(want)
    for name, (mean, var) in statistics(got).items():
        want_mean, want_var = want_stats[name]
        for what, g, w in (("running_mean", mean, want_mean), ("running_var", var, want_var)):
            if not close(g, w, TOLERANCE):
                gap = (g - w).abs().max().item()
                return f"{what} of the batch norm {name} differs from the package's by up to {gap:.2e}"
    return None


@one_thread()
def check_recompute_batch_norm(recompute_batch_norm: Recompute, seed: int = 0) -> None:
    """Compare recompute_batch_norm with gcnn_edu.evaluate.recompute_batch_norm on a small P4CNN."""
    model = trained_p4cnn(seed)
    images, _ = draw_digits(seed, BN_DIGITS)

    def student(m: nn.Module, x: torch.Tensor, batch_size: int) -> None:
        attempt(recompute_batch_norm, m, x, batch_size, name="recompute_batch_norm")

    got, grad_modes = run_recompute(student, model, images, seed)
    want, _ = run_recompute(package_recompute, model, images, seed)
    mismatch = stats_difference(got, want)
    if mismatch is not None:
        untouched = all(bn.momentum == 0.1 for bn in batch_norms(got).values())  # momentum included
        if untouched and stats_difference(got, model) is None:
            fail(NOTHING_FOUND)  # the batch norms were not found
        for changes, message in RECOMPUTE_MISTAKES:
            def mistake(m: nn.Module, x: torch.Tensor, batch_size: int, changes: dict = changes) -> None:
                one_pass(m, x, batch_size, **changes)
            if stats_difference(got, run_recompute(mistake, model, images, seed)[0]) is None:
                fail(message)
        batches = -(-BN_DIGITS // BN_BATCH)
        if any(int(bn.num_batches_tracked) > batches for bn in batch_norms(got).values()):
            fail(COUNT_KEPT.format(batches=batches, last=500 + batches))
        fail(f"recompute_batch_norm does not give the package's statistics: {mismatch} ({BN_DIGITS} digits "
             f"in batches of {BN_BATCH}, a P4CNN with {CHANNELS} channels and dropout {DROPOUT})")
    still_training = [f"the layer {name} ({type(m).__name__})" if name else "the model"
                      for name, m in got.named_modules() if m.training]
    if still_training:
        dropout_on = any(isinstance(m, nn.Dropout) and m.training for m in got.modules())
        fail(f"the statistics are right, but {still_training[0]} is left in train mode: in train mode "
             f"a batch norm normalises each test batch with that batch's own statistics, not the recomputed "
             f"ones{', and dropout is on' if dropout_on else ''}. End with `model.eval()`")
    note = (" (the pass tracked gradients: `torch.no_grad()` saves their memory and time, nothing is learned "
            "here)") if any(grad_modes) else ""
    passed(f"recompute_batch_norm gives the running means and variances of gcnn_edu.evaluate."
           f"recompute_batch_norm in all {len(batch_norms(got))} batch norms of a P4CNN, over {BN_DIGITS} "
           f"digits in batches of {BN_BATCH}, and leaves the model in eval mode{note}")
