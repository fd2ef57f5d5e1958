"""Tests for autograd_mini.optim: SGD and Adam update rules, state, schedules, errors, PyTorch."""

from __future__ import annotations

import json
import math

import pytest

from autograd_mini import Value
from autograd_mini.losses import mse
from autograd_mini.nn import MLP
from autograd_mini.optim import SGD, Adam, LinearLR, StepLR


def run(opt, p, grads):
    """Apply one step per gradient (set by hand) and return p.data after each."""
    out = []
    for g in grads:
        p.grad = g
        opt.step()
        out.append(p.data)
    return out


# --- SGD by hand --------------------------------------------------------------------------------


def test_sgd_step_subtracts_lr_times_grad():
    w = Value(1.0)
    (w * w).backward()  # dL/dw = 2
    SGD([w], lr=0.1).step()
    assert w.data == pytest.approx(0.8, rel=1e-15)


def test_sgd_momentum_matches_hand_computed_steps():
    # b₁ = g₁ = 2 → p = 1 − 0.1·2 = 0.8;  b₂ = 0.9·2 + 1 = 2.8 → p = 0.8 − 0.28 = 0.52
    p = Value(1.0)
    assert run(SGD([p], lr=0.1, momentum=0.9), p, [2.0, 1.0]) == pytest.approx([0.8, 0.52])


def test_sgd_nesterov_matches_hand_computed_steps():
    # step 1: b = 2, g = 2 + 0.9·2 = 3.8, p = 1 − 0.38 = 0.62
    # step 2: b = 0.9·2 + 1 = 2.8, g = 1 + 0.9·2.8 = 3.52, p = 0.62 − 0.352 = 0.268
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    assert run(opt, p, [2.0, 1.0]) == pytest.approx([0.62, 0.268], rel=1e-14)


def test_sgd_weight_decay_adds_decay_times_parameter_to_the_gradient():
    # g = 2 + 0.1·1 = 2.1 → p = 1 − 0.1·2.1 = 0.79; then g = 0 + 0.1·0.79 → p = 0.79·(1 − 0.01)
    p = Value(1.0)
    opt = SGD([p], lr=0.1, weight_decay=0.1)
    assert run(opt, p, [2.0, 0.0]) == pytest.approx([0.79, 0.79 * 0.99], rel=1e-14)


def test_sgd_momentum_with_weight_decay_by_hand():
    # g₁ = 2 + 0.5·1 = 2.5, b = 2.5, p = 1 − 0.25 = 0.75
    # g₂ = 1 + 0.5·0.75 = 1.375, b = 0.5·2.5 + 1.375 = 2.625, p = 0.75 − 0.2625 = 0.4875
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.5, weight_decay=0.5)
    assert run(opt, p, [2.0, 1.0]) == pytest.approx([0.75, 0.4875], rel=1e-14)


# --- Adam by hand -------------------------------------------------------------------------------


def test_adam_first_step_moves_by_lr_times_sign_of_gradient():
    # m̂ = g, v̂ = g², so the first step is lr·g/(|g| + ε) ≈ lr·sign(g), whatever |g|
    for g in (2.0, -1e-3, 50.0):
        p = Value(1.0)
        opt = Adam([p], lr=0.1)
        p.grad = g
        opt.step()
        assert p.data == pytest.approx(1.0 - 0.1 * g / (abs(g) + 1e-8), rel=1e-14)


def test_adam_matches_hand_computed_steps():
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.1
    p = Value(1.0)
    got = run(Adam([p], lr=lr), p, [2.0, 1.0])
    # step 1: m = 0.2, v = 0.004, m̂ = 2, v̂ = 4 → p = 1 − 0.1·2/(2 + ε)
    p1 = 1.0 - 0.1 * 2.0 / (2.0 + eps)
    # step 2: m = 0.9·0.2 + 0.1·1 = 0.28, v = 0.999·0.004 + 0.001·1 = 0.004996
    m, v = 0.28, 0.004996
    p2 = p1 - lr / (1 - b1**2) * m / (math.sqrt(v) / math.sqrt(1 - b2**2) + eps)
    assert got == pytest.approx([p1, p2], rel=1e-14)


def test_adam_weight_decay_is_added_to_the_gradient():
    p = Value(2.0)
    opt = Adam([p], lr=0.1, weight_decay=0.5)
    p.grad = -1.0  # g = −1 + 0.5·2 = 0: the first step does not move p
    opt.step()
    assert p.data == 2.0


def test_adam_betas_and_eps_are_used():
    p = Value(0.0)
    opt = Adam([p], lr=1.0, betas=(0.5, 0.75), eps=0.5)
    p.grad = 1.0
    opt.step()
    # m = 0.5, v = 0.25, m̂ = 1, v̂ = 1 → p = −1/(1 + 0.5)
    assert p.data == pytest.approx(-2.0 / 3.0, rel=1e-15)


# --- behaviour shared by both -------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps)])
def test_steps_change_data_only_and_grow_no_graph(make):
    model = MLP(2, [3, 1], seed=0)
    params = model.parameters()
    opt = make(params)
    before = [p.data for p in params]
    for _ in range(3):
        opt.zero_grad()
        loss = mse([model([0.5, -0.5])], [1.0])
        loss.backward()  # a second backward through an old graph would raise here
        opt.step()
    assert all(p.is_leaf and p.parents == () for p in params)
    assert all(type(p.data) is float for p in params)
    assert [p.data for p in params] != before
    assert model.parameters() == params  # the same Value objects, updated in place


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)])
def test_zero_grad_resets_the_parameters_gradients(make):
    ps = [Value(1.0), Value(2.0)]
    (ps[0] * ps[1]).backward()
    make(ps).zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: Adam(ps, lr=0.02, weight_decay=0.01),
    ],
)
def test_state_dict_resumes_a_run_exactly(make):
    xs = [[0.1, 0.9], [-0.7, 0.3], [1.2, -0.4]]
    ys = [1.0, -1.0, 0.5]

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            mse([model(x) for x in xs], ys).backward()
            opt.step()

    straight = MLP(2, [4, 1], seed=3)
    opt = make(straight.parameters())
    train(straight, opt, 6)

    first = MLP(2, [4, 1], seed=3)
    opt1 = make(first.parameters())
    train(first, opt1, 3)
    saved_model = json.loads(json.dumps(first.state_dict()))
    saved_opt = json.loads(json.dumps(opt1.state_dict()))  # plain JSON
    resumed = MLP(2, [4, 1], seed=99)
    resumed.load_state_dict(saved_model)
    opt2 = make(resumed.parameters())
    opt2.load_state_dict(saved_opt)
    train(resumed, opt2, 3)
    assert resumed.state_dict() == straight.state_dict()


def test_load_state_dict_restores_hyperparameters():
    p = Value(0.0)
    a = Adam([p], lr=0.5, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)
    b = Adam([Value(0.0)])
    b.load_state_dict(a.state_dict())
    assert (b.lr, b.betas, b.eps, b.weight_decay) == (0.5, (0.8, 0.9), 1e-6, 0.1)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda sd: sd.update(type="Adam"),
        lambda sd: sd["state"].update(buffers=[1.0, 2.0, 3.0]),
        lambda sd: sd["state"].update(buffers=["x", 2.0]),
        lambda sd: sd["hyperparameters"].update(lr=-1.0),
        lambda sd: sd["hyperparameters"].update(nesterov="yes"),
        lambda sd: sd["hyperparameters"].pop("momentum"),
        lambda sd: sd.pop("state"),
    ],
)
def test_bad_optimizer_state_raises_value_error_and_changes_nothing(mutate):
    ps = [Value(1.0), Value(2.0)]
    opt = SGD(ps, lr=0.1, momentum=0.9)
    ps[0].grad, ps[1].grad = 1.0, 1.0
    opt.step()
    good = opt.state_dict()
    bad = json.loads(json.dumps(good))
    mutate(bad)
    with pytest.raises(ValueError):
        opt.load_state_dict(bad)
    assert opt.state_dict() == good


@pytest.mark.parametrize("step", [10**400, 10**5000, 2**63], ids=["1e400", "1e5000", "2**63"])
def test_adam_step_count_too_large_for_a_float_is_rejected_at_load(step):
    # 0.9 ** (10**400) raised a raw OverflowError in the next step()
    ps = [Value(1.0)]
    opt = Adam(ps)
    ps[0].grad = 1.0
    opt.step()
    good = opt.state_dict()
    bad = json.loads(json.dumps(good))
    bad["state"]["step"] = step
    with pytest.raises(ValueError, match="step"):
        opt.load_state_dict(bad)
    assert opt.state_dict() == good


def test_adam_resumes_from_a_large_step_count():
    ps = [Value(1.0)]
    opt = Adam(ps)
    ps[0].grad = 1.0
    opt.step()
    sd = opt.state_dict()
    sd["state"]["step"] = 2**53
    opt.load_state_dict(sd)
    opt.step()
    assert math.isfinite(ps[0].data)


def test_adam_state_of_wrong_length_is_rejected():
    opt = Adam([Value(1.0)])
    sd = Adam([Value(1.0), Value(2.0)]).state_dict()
    with pytest.raises(ValueError, match="one number per parameter"):
        opt.load_state_dict(sd)


# --- bad hyperparameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": -0.1}, "learning rate"),
        ({"lr": 0.1, "momentum": -0.5}, "momentum"),
        ({"lr": 0.1, "weight_decay": -1.0}, "weight_decay"),
        ({"lr": 0.1, "nesterov": True}, "Nesterov"),
        ({"lr": math.nan}, "NaN"),
    ],
)
def test_sgd_rejects_invalid_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SGD([Value(1.0)], **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": -1e-3}, "learning rate"),
        ({"betas": (1.0, 0.999)}, "beta1"),
        ({"betas": (-0.1, 0.999)}, "beta1"),
        ({"betas": (0.9, 1.0)}, "beta2"),
        ({"betas": (0.9, 1.5)}, "beta2"),
        ({"betas": (0.9,)}, "pair"),
        ({"eps": -1e-8}, "eps"),
        ({"weight_decay": -0.1}, "weight_decay"),
    ],
)
def test_adam_rejects_invalid_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Adam([Value(1.0)], **kwargs)


def test_optimizers_reject_bad_parameter_lists():
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[1\]"):
        Adam([Value(1.0), 2.0])
    with pytest.raises(TypeError, match="single Value"):
        SGD(Value(1.0), lr=0.1)
    p = Value(1.0)
    with pytest.raises(ValueError, match="more than once"):
        SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match="lr"):
        SGD([Value(1.0)], lr="0.1")


def test_zero_learning_rate_is_allowed_and_changes_nothing():
    p = Value(1.5)
    p.grad = 3.0
    SGD([p], lr=0.0).step()
    assert p.data == 1.5


# --- learning-rate schedules --------------------------------------------------------------------


def test_step_lr_multiplies_by_gamma_every_step_size_epochs():
    opt = SGD([Value(1.0)], lr=1.0)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    lrs = [opt.lr]
    for _ in range(5):
        sched.step()
        lrs.append(opt.lr)
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_linear_lr_goes_from_start_to_end_factor_then_stays():
    opt = SGD([Value(1.0)], lr=2.0)
    sched = LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=4)
    lrs = [opt.lr]
    for _ in range(6):
        sched.step()
        lrs.append(opt.lr)
    assert lrs == pytest.approx([2.0, 1.55, 1.1, 0.65, 0.2, 0.2, 0.2])


def test_schedules_reject_bad_arguments():
    opt = SGD([Value(1.0)], lr=1.0)
    with pytest.raises(ValueError, match="step_size"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="start_factor"):
        LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="total_iters"):
        LinearLR(opt, total_iters=0)
    with pytest.raises(TypeError, match="Optimizer"):
        StepLR("sgd", step_size=1)


# --- against PyTorch ----------------------------------------------------------------------------


def _torch_run(torch, make_torch_opt, start, grads_fn, steps):
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make_torch_opt([p])
    for k in range(steps):
        opt.zero_grad()
        p.grad = torch.tensor(grads_fn(p.detach().tolist(), k), dtype=torch.float64)
        opt.step()
    return p.detach().tolist()


def _our_run(make_opt, start, grads_fn, steps):
    ps = [Value(x) for x in start]
    opt = make_opt(ps)
    for k in range(steps):
        opt.zero_grad()
        for p, g in zip(ps, grads_fn([p.data for p in ps], k), strict=True):
            p.grad = g
        opt.step()
    return [p.data for p in ps]


def _grads(xs, k):
    """A gradient that depends on the parameters and the step (like a real loss)."""
    return [math.sin(3.0 * x + k) + 0.3 * x for x in xs]


@pytest.mark.torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.1},
        {"lr": 0.1, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.8, "nesterov": True},
        {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
        {"lr": 0.1, "weight_decay": 0.2},
        {"lr": 0.03, "momentum": 0.5, "nesterov": True, "weight_decay": 0.1},
    ],
)
def test_sgd_matches_torch_optim_sgd(kwargs):
    torch = pytest.importorskip("torch")
    start = [0.5, -1.2, 2.0, 0.0]
    ours = _our_run(lambda ps: SGD(ps, **kwargs), start, _grads, 20)
    theirs = _torch_run(torch, lambda ps: torch.optim.SGD(ps, **kwargs), start, _grads, 20)
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-14)


@pytest.mark.torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"lr": 0.1},
        {"lr": 0.05, "betas": (0.8, 0.99)},
        {"lr": 0.01, "eps": 1e-3},
        {"lr": 0.1, "weight_decay": 0.05},
        {"lr": 0.02, "betas": (0.0, 0.5), "eps": 1e-300},
    ],
)
def test_adam_matches_torch_optim_adam(kwargs):
    torch = pytest.importorskip("torch")
    start = [0.5, -1.2, 2.0, 0.3]
    ours = _our_run(lambda ps: Adam(ps, **kwargs), start, _grads, 20)
    theirs = _torch_run(
        torch, lambda ps: torch.optim.Adam(ps, foreach=False, **kwargs), start, _grads, 20
    )
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-14)


@pytest.mark.torch
def test_schedules_match_torch():
    torch = pytest.importorskip("torch")
    for ours_cls, torch_cls, kw in [
        (StepLR, torch.optim.lr_scheduler.StepLR, {"step_size": 3, "gamma": 0.5}),
        (
            LinearLR,
            torch.optim.lr_scheduler.LinearLR,
            {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 7},
        ),
        (LinearLR, torch.optim.lr_scheduler.LinearLR, {}),
    ]:
        opt = SGD([Value(1.0)], lr=0.4)
        sched = ours_cls(opt, **kw)
        topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.4)
        tsched = torch_cls(topt, **kw)
        for _ in range(10):
            assert opt.lr == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
            topt.step()
            tsched.step()
            sched.step()


# --- hyperparameters must be finite and in range; a Module is a parameter list (issue 13) ---------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": math.inf},
        {"lr": 0.1, "momentum": math.inf},
        {"lr": 0.1, "weight_decay": math.inf},
        {"lr": -math.inf},
        {"lr": 10**400},
    ],
)
def test_sgd_rejects_infinite_hyperparameters(kwargs):
    with pytest.raises(ValueError, match=r"SGD: .* must be finite"):
        SGD([Value(1.0)], **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eps": 0}, "eps"),
        ({"eps": 0.0}, "eps"),
        ({"eps": math.inf}, "eps"),
        ({"lr": math.inf}, "learning rate"),
        ({"weight_decay": math.inf}, "weight_decay"),
        ({"betas": (math.nan, 0.9)}, "beta1"),
        ({"betas": (0.9, math.inf)}, "beta2"),
    ],
)
def test_adam_rejects_zero_eps_and_infinite_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Adam([Value(1.0)], **kwargs)


def _sgd_state_with(key, value):
    opt = SGD([Value(1.0), Value(2.0)], lr=0.1, momentum=0.9)
    for p in opt.params:
        p.grad = 1.0
    opt.step()
    sd = opt.state_dict()
    if key == "buffers":
        sd["state"]["buffers"] = [1.0, value]
    else:
        sd["hyperparameters"][key] = value
    return sd


@pytest.mark.parametrize(
    ("key", "value"),
    [("buffers", math.inf), ("buffers", -math.inf), ("lr", math.inf), ("momentum", math.inf)],
)
def test_sgd_load_state_dict_rejects_infinite_numbers_and_changes_nothing(key, value):
    opt = SGD([Value(1.0), Value(2.0)], lr=0.1, momentum=0.9)
    before = opt.state_dict()
    with pytest.raises(ValueError, match="finite"):
        opt.load_state_dict(_sgd_state_with(key, value))
    assert opt.state_dict() == before


@pytest.mark.parametrize(
    ("where", "key", "value", "match"),
    [
        ("hyperparameters", "eps", 0.0, "eps"),
        ("hyperparameters", "eps", math.inf, "finite"),
        ("state", "m", [math.inf], "finite"),
        ("state", "v", [math.inf], "finite"),
        ("state", "v", [-1.0], "negative"),
    ],
)
def test_adam_load_state_dict_rejects_bad_numbers(where, key, value, match):
    opt = Adam([Value(1.0)], lr=0.1)
    sd = opt.state_dict()
    sd[where][key] = value
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(sd)
    assert opt.state_dict() == Adam([Value(1.0)], lr=0.1).state_dict()


@pytest.mark.parametrize("make", [lambda m: SGD(m, lr=0.1), lambda m: Adam(m, lr=0.1)])
def test_optimizers_accept_a_module_for_its_parameters(make):
    from autograd_mini.nn import MLP

    model = MLP(2, [3, 1], seed=0)
    opt = make(model)
    assert opt.params == model.parameters()
    before = [p.data for p in model.parameters()]
    model([0.5, -1.0]).backward()
    opt.step()
    assert [p.data for p in model.parameters()] != before


def test_optimizers_reject_unordered_parameter_collections():
    a, b = Value(1.0), Value(2.0)
    with pytest.raises(TypeError, match="ordered"):
        SGD({a, b}, lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        Adam({a: 1, b: 2}, lr=0.1)
    with pytest.raises(TypeError, match="list of Values or a Module"):
        SGD(3, lr=0.1)
