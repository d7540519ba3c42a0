"""Every spec validates; every invalid spec gives a SpecError naming the spec and the culprit."""
import dataclasses

import pytest
import sympy as sp

from optiforge import specs
from optiforge.specs import GRAD as g, PARAM as theta, STEP as t
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import Assignment, OptimizerSpec, SpecError
from optiforge.specs.validate import ELEMENTARY_FUNCTIONS

CORE = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamax", "nadam", "nadamax",
        "adamw"]
TORCH = ["sgd_torch", "sgd_torch_nesterov", "adagrad_torch", "rmsprop_torch", "rmsprop_torch_centered",
         "adadelta_torch", "adam_torch", "adamw_torch", "adamax_torch", "nadam_torch"]


def test_catalogue_contains_the_core_and_torch_forms():
    assert set(CORE + TORCH) <= set(specs.names())


@pytest.mark.parametrize("name", specs.names())
def test_every_spec_validates_and_has_metadata(name):
    spec = specs.validate(specs.get(name))
    assert spec.title and spec.reference
    assert all(spec.hyper(h.name).domain.contains(h.default) == sp.true for h in spec.hyperparameters)
    assert theta in {a.target for a in spec.assignments}


def test_unknown_name_suggests_close_matches():
    with pytest.raises(KeyError, match="did you mean 'adam'"):
        specs.get("adamm")


def test_hyperparameter_domains_become_assumptions():
    adam = specs.get("adam")
    assert adam.symbol("lr").is_nonnegative and adam.symbol("beta1").is_nonnegative
    assert adam.symbol("beta1").is_real


def _builder(name="bad"):
    spec = SpecBuilder(name, "Bad", reference="test")
    lr = spec.hyper("lr", 0.1, r"\eta", specs.POSITIVE)
    return spec, lr


def _raises(build, *fragments):
    with pytest.raises(SpecError) as error:
        build()
    message = str(error.value)
    assert "'bad'" in message
    for fragment in fragments:
        assert fragment in message, message


def test_undefined_symbol():
    spec, lr = _builder()
    spec.update(theta, theta - lr * sp.Symbol("mystery") * g)
    _raises(spec.build, "undefined symbol 'mystery'")


def test_assignment_to_hyperparameter():
    spec, lr = _builder()
    spec.update(lr, lr / 2)
    spec.update(theta, theta - lr * g)
    _raises(spec.build, "assignment to hyperparameter 'lr'")


def test_assignment_to_gradient():
    spec, lr = _builder()
    spec.update(g, 2 * g)
    spec.update(theta, theta - lr * g)
    _raises(spec.build, "assignment to the gradient 'g'")


def test_state_read_before_initialisation():
    spec, lr = _builder()
    prev = spec.state("prev", init=None)
    spec.update(theta, theta - lr * (g - prev))
    spec.update(prev, g)
    _raises(spec.build, "state 'prev' is read", "before initialisation")


def test_state_initial_value_reading_other_state():
    spec, lr = _builder()
    a = spec.state("a", 0)
    spec.state("b", init=a)
    spec.update(theta, theta - lr * g)
    _raises(spec.build, "initial value of 'b' reads state 'a'")


def test_cycle_among_temporaries():
    x, y = sp.symbols("x y", real=True)
    lr = sp.Symbol("lr", positive=True)
    spec = OptimizerSpec("bad", "Bad", "test", "", (specs.Hyperparameter(lr, 0.1, r"\eta", specs.POSITIVE),), (),
                         {x: "x", y: "y"},
                         (Assignment(x, y + 1), Assignment(y, x * 2), Assignment(theta, theta - lr * x * g)))
    _raises(lambda: specs.validate(spec), "cycle among temporaries", "x -> y -> x")


@pytest.mark.parametrize("expr, culprit, why", [
    (sp.Function("f")(g), "undefined function f", "not a function the kernels compute"),
    (sp.erf(g), "function erf", "NumPy has no erf ufunc"),
    (sp.polygamma(1, g), "function polygamma", "not elementwise or not supported"),
    (sp.Sum(g, (t, 1, 3)), "function Sum", "not elementwise or not supported"),
])
def test_function_that_is_not_supported(expr, culprit, why):
    """The message names the function, says why, and lists every supported function."""
    spec, lr = _builder()
    spec.update(theta, theta - lr * expr)
    _raises(spec.build, culprit, why, "supported: +, *, **, sqrt", "cos", "atan", "log1p")


@pytest.mark.parametrize("function", sorted(ELEMENTARY_FUNCTIONS, key=lambda f: f.__name__))
def test_elementary_functions_are_allowed(function):
    spec, lr = _builder()
    spec.update(theta, theta - lr * function(g / 2))
    assert spec.build().assignments[-1].value.has(function)


def test_empty_domain():
    spec = SpecBuilder("bad", "Bad", reference="test")
    spec.hyper("lr", 0.1, r"\eta", sp.Interval(1, 0))
    spec.update(theta, theta - g)
    _raises(spec.build, "'lr' has an empty domain")


def test_default_outside_domain():
    spec = SpecBuilder("bad", "Bad", reference="test")
    beta = spec.hyper("beta", 1.0, r"\beta", specs.UNIT_HALF_OPEN)
    spec.update(theta, theta - beta * g)
    _raises(spec.build, "default beta=1.0 is outside its domain")


def test_scalar_state_must_stay_scalar():
    spec, lr = _builder()
    acc = spec.scalar_state("acc", 0)
    spec.update(acc, acc + g)
    spec.update(theta, theta - lr * g)
    _raises(spec.build, "scalar state 'acc' is assigned an elementwise expression")


def test_reserved_and_duplicate_names():
    spec = SpecBuilder("bad", "Bad", reference="test")
    spec.hyper("g", 0.1, "g", specs.POSITIVE)
    spec.update(theta, theta - g)
    _raises(spec.build, "'g' is reserved")
    spec, lr = _builder()
    spec.hyper("lr", 0.2, r"\eta", specs.POSITIVE)
    spec.update(theta, theta - lr * g)
    _raises(spec.build, "'lr' is declared twice")
    spec, lr = _builder()
    spec.state("state", 0)
    spec.update(theta, theta - lr * g)
    _raises(spec.build, "'state' is reserved: generated kernels use it")


def test_parameter_must_be_updated():
    spec, lr = _builder()
    m = spec.state("m", 0)
    spec.update(m, m + lr * g)
    _raises(spec.build, "'theta' is never updated")


def test_step_map_is_the_forward_substituted_update():
    adam = specs.get("adam")
    b1, b2, lr, eps = (adam.symbol(n) for n in ("beta1", "beta2", "lr", "eps"))
    m, v = adam.symbol("m"), adam.symbol("v")
    step = adam.step_map()
    m_new = b1 * m + (1 - b1) * g
    expected = theta - lr * (m_new / (1 - b1**t)) / (sp.sqrt((b2 * v + (1 - b2) * g**2) / (1 - b2**t)) + eps)
    assert sp.simplify(step[theta] - expected) == 0


@pytest.mark.parametrize("numerics, fragments", [
    (specs.Numerics(averages="lerpp"), ("numerics.averages", "'as_written', 'lerp'", "'lerpp'")),
    (specs.Numerics(sign_of_nan=0), ("numerics.sign_of_nan", "'nan', 'zero'", "got 0")),
    (specs.Numerics(squares="fma"), ("numerics.squares", "'addcmul'", "'fma'")),
    ("torch", ("numerics must be a Numerics", "str")),
])
def test_bad_numerics(numerics, fragments):
    spec = SpecBuilder("bad", "Bad", reference="test", numerics=numerics)
    lr = spec.hyper("lr", 0.1, r"\eta", specs.POSITIVE)
    spec.update(theta, theta - lr * g)
    _raises(spec.build, *fragments)


def test_numerics_default_to_the_spec_as_written_and_enter_the_fingerprint():
    spec, lr = _builder("plain")
    spec.update(theta, theta - lr * g)
    plain = spec.build()
    assert plain.numerics == specs.Numerics() and plain.numerics.describe() == ""
    torch_like = dataclasses.replace(plain, numerics=specs.dsl.TORCH_NUMERICS)
    assert torch_like.fingerprint() != plain.fingerprint()
    # the peers are documents: they change neither the numerics nor the fingerprint
    assert dataclasses.replace(plain, peers=("torch.optim.SGD",)).fingerprint() == plain.fingerprint()
