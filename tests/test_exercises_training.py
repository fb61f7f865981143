"""The checks of notebook 05's exercises: a correct step and recomputation pass; each mistake is named."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gcnn_edu.evaluate import recompute_batch_norm as package_recompute
from gcnn_edu.exercises.common import ExerciseFailed
from gcnn_edu.exercises.training import check_recompute_batch_norm, check_train_step

# ---------------------------------------------------------------------------------------------
# train_step


def train_step(model, optimizer, images, labels):
    """One step of Adam on the batch's mean cross-entropy, as in the notebook."""
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_returning_a_tensor(model, optimizer, images, labels):
    model.train()
    loss = F.nll_loss(torch.log_softmax(model(images), 1), labels, reduction="sum") / len(labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def without_zero_grad(model, optimizer, images, labels):
    model.train()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def left_in_eval_mode(model, optimizer, images, labels):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def softmax_first(model, optimizer, images, labels):
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images).softmax(dim=1), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def without_step(model, optimizer, images, labels):
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    return loss.item()


def zero_grad_before_step(model, optimizer, images, labels):
    model.train()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def zero_grad_after_step(model, optimizer, images, labels):
    model.train()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def summed_over_the_batch(model, optimizer, images, labels):
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels, reduction="sum")
    loss.backward()
    optimizer.step()
    return loss.item()


def nll_loss_of_the_scores(model, optimizer, images, labels):
    model.train()
    optimizer.zero_grad()
    loss = F.nll_loss(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def log_softmax_over_the_batch(model, optimizer, images, labels):
    model.train()
    optimizer.zero_grad()
    loss = F.nll_loss(torch.log_softmax(model(images), dim=0), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def squared_error_on_one_hot_labels(model, optimizer, images, labels):
    model.train()
    optimizer.zero_grad()
    loss = F.mse_loss(model(images), F.one_hot(labels, 10).float())
    loss.backward()
    optimizer.step()
    return loss.item()


def loss_after_the_step_in_train_mode(model, optimizer, images, labels):
    train_step(model, optimizer, images, labels)
    return F.cross_entropy(model(images), labels).item()  # a second forward pass, with the new weights


def loss_after_the_step_in_eval_mode(model, optimizer, images, labels):
    train_step(model, optimizer, images, labels)
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(images), labels).item()


def stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("seed", [0, 1])
def test_a_correct_step_passes(capsys, seed):
    check_train_step(train_step, seed=seed)
    out = capsys.readouterr().out
    assert out.startswith("Correct") and "as a tensor" not in out


def test_a_step_that_returns_the_loss_as_a_tensor_passes_with_a_note(capsys):
    check_train_step(step_returning_a_tensor)
    assert "Correct" in capsys.readouterr().out.split("as a tensor")[0]


@pytest.mark.parametrize(("mistake", "diagnosis"), [
    (without_zero_grad, "optimizer.zero_grad()"),
    (left_in_eval_mode, "eval mode"),
    (softmax_first, "softmax(z)"),
    (without_step, "optimizer.step()"),
    (zero_grad_before_step, "cleared between"),
    (zero_grad_after_step, "comes too late for the first step"),
    (summed_over_the_batch, "the sum over the batch, not the mean"),
    (nll_loss_of_the_scores, "`F.nll_loss` expects log-probabilities"),
    (log_softmax_over_the_batch, "normalised over the batch (dim=0)"),
    (squared_error_on_one_hot_labels, "squared error between the scores and the one-hot labels"),
    (loss_after_the_step_in_train_mode, "return the loss computed before optimizer.step()"),
    (loss_after_the_step_in_eval_mode, "return the loss computed before optimizer.step()"),
])
def test_each_mistake_in_the_step_is_named(mistake, diagnosis):
    with pytest.raises(ExerciseFailed) as err:
        check_train_step(mistake)
    assert diagnosis in str(err.value)


def test_a_stub_step_is_not_written_yet():
    with pytest.raises(ExerciseFailed, match="not written yet"):
        check_train_step(stub)


@pytest.mark.parametrize(("returned", "says"), [
    (None, "returned None"), ([1.0], "got list"), (torch.ones(3), "shape (3,)"), (True, "got bool")])
def test_a_step_that_returns_no_number_fails_with_what_came(returned, says):
    def step(model, optimizer, images, labels):
        train_step(model, optimizer, images, labels)
        return returned

    with pytest.raises(ExerciseFailed, match=r"train_step") as err:
        check_train_step(step)
    assert says in str(err.value)


def test_a_step_that_crashes_inside_torch_fails_with_its_error():
    def step(model, optimizer, images, labels):
        return F.cross_entropy(model(images[0]), labels).item()  # one digit without its batch axis

    with pytest.raises(ExerciseFailed, match="train_step raised ValueError"):
        check_train_step(step)


# ---------------------------------------------------------------------------------------------
# recompute_batch_norm


def with_the_wrong_isinstance(model, images, batch_size):
    """The recomputation that looks for nn.BatchNorm2d: P4CNN's GroupBatchNorm is a BatchNorm3d."""
    model.eval()
    for bn in [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            model(images[start:start + batch_size])
    model.eval()


def zeroed_by_hand(model, images, batch_size):
    """The reset written out, the count of batches left as it was."""
    model.eval()
    for bn in norms(model):
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0)
        bn.momentum = None
        bn.train()
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            model(images[start:start + batch_size])
    model.eval()


def norms(model):
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def one_pass(model, images, batch_size, reset=True, momentum=None, dropout=False, norms_train=True,
             no_grad=True, eval_after=True):
    """The recomputation of the notebook, with the parts a mistake changes as arguments."""
    model.train(dropout)
    for bn in norms(model):
        if reset:
            bn.reset_running_stats()
        bn.momentum = momentum
        bn.train(norms_train)
    with torch.set_grad_enabled(not no_grad):
        for start in range(0, len(images), batch_size):
            model(images[start:start + batch_size])
    if eval_after:
        model.eval()


def with_the_package(model, images, batch_size):
    data = type("Digits", (), {"images": images, "__len__": lambda self: len(images)})()
    package_recompute(model, data, torch.device("cpu"), batch_size)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("recompute", [with_the_package, one_pass], ids=["package", "notebook"])
def test_a_correct_recomputation_passes(capsys, seed, recompute):
    check_recompute_batch_norm(recompute, seed=seed)
    out = capsys.readouterr().out
    assert out.startswith("Correct") and "tracked gradients" not in out


def test_tracking_gradients_passes_with_a_note(capsys):
    check_recompute_batch_norm(lambda m, x, b: one_pass(m, x, b, no_grad=False))
    out = capsys.readouterr().out
    assert out.startswith("Correct") and "tracked gradients" in out


@pytest.mark.parametrize(("changes", "diagnosis"), [
    (dict(reset=False), "still hold the old running values"),
    (dict(reset=False, momentum=0.1), "still hold the old running values and are an exponential average"),
    (dict(momentum=0.1), "the last batches weigh most"),
    (dict(dropout=True), "dropout was on during the pass"),
    (dict(norms_train=False), "the reset values (mean 0, variance 1)"),
    (dict(reset=False, norms_train=False), "did not change the running statistics"),
    (dict(eval_after=False), "left in train mode"),
])
def test_each_mistake_in_the_recomputation_is_named(changes, diagnosis):
    with pytest.raises(ExerciseFailed) as err:
        check_recompute_batch_norm(lambda m, x, b: one_pass(m, x, b, **changes))
    assert diagnosis in str(err.value)


@pytest.mark.parametrize(("recompute", "diagnosis"), [
    (with_the_wrong_isinstance, "no batch norm of the network was reset or updated: P4CNN's batch norms are "
                                "GroupBatchNorm, a BatchNorm3d"),
    (zeroed_by_hand, "the count of batches was not reset: use reset_running_stats()"),
    (lambda m, x, b: one_pass(m, x, len(x)),
     "the means agree, the variances do not: the average of the batches' variances depends on the batches; "
     "pass the digits in batches of batch_size"),
], ids=["BatchNorm2d", "count kept", "one batch"])
def test_each_mistake_in_finding_resetting_or_batching_is_named(recompute, diagnosis):
    with pytest.raises(ExerciseFailed) as err:
        check_recompute_batch_norm(recompute)
    assert diagnosis in str(err.value)


def left_in_train_mode(model, images, batch_size):
    one_pass(model, images, batch_size)
    model.train()  # dropout on as well


@pytest.mark.parametrize(("recompute", "dropout_named"), [
    (left_in_train_mode, True), (lambda m, x, b: one_pass(m, x, b, eval_after=False), False)],
    ids=["model", "norms only"])
def test_left_in_train_mode_names_dropout_only_when_it_is_on(recompute, dropout_named):
    with pytest.raises(ExerciseFailed, match="left in train mode") as err:
        check_recompute_batch_norm(recompute)
    assert ("dropout is on" in str(err.value)) == dropout_named


def test_statistics_of_other_digits_fail_with_where_they_differ():
    with pytest.raises(ExerciseFailed, match="running_mean of the batch norm blocks.0.1 differs"):
        check_recompute_batch_norm(lambda m, x, b: one_pass(m, x[:len(x) // 2], b))  # half of the digits


def test_a_stub_recomputation_is_not_written_yet():
    with pytest.raises(ExerciseFailed, match="not written yet"):
        check_recompute_batch_norm(stub)


def test_a_recomputation_that_crashes_inside_torch_fails_with_its_error():
    with pytest.raises(ExerciseFailed, match="recompute_batch_norm raised ValueError"):
        check_recompute_batch_norm(lambda m, x, b: m(x[0]))  # one digit without its batch axis


def test_the_checks_leave_the_random_state_and_the_threads_as_they_were():
    threads, state = torch.get_num_threads(), torch.get_rng_state()
    check_train_step(train_step)
    check_recompute_batch_norm(one_pass)
    assert torch.get_num_threads() == threads and torch.equal(torch.get_rng_state(), state)
