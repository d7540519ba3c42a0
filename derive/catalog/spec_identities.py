r"""11. Identities between specs of the catalogue (RMSProp/Adam, AdamW(λ=0)/Adam, torch variants, Nadam/Adam and
NadaMax/AdaMax at β₁ = 0, SGD as a special case)."""
import sympy as sp

from optiforge import specs

from ..engine import FAILS, ClaimList
from ..equivalence import Dynamics, equivalent
from .adam import BIAS, positivity_of_bias_corrections

CLAIMS = ClaimList()
ADAM = specs.get("adam")
beta1, beta2, v, t = ADAM.symbol("beta1"), ADAM.symbol("beta2"), ADAM.symbol("v"), ADAM.symbol("t")
r = specs.get("rmsprop").symbol("r")


def spec(name, **fix):
    return Dynamics.from_spec(specs.get(name), fix=fix)


def _adam_without_bias_correction():
    """Adam with β₁ = 0 and both bias corrections removed (β₂^t ↦ 0 in 1 − β₂^t)."""
    adam = spec("adam", beta1=0)
    update = {x: e.xreplace({beta2**t: 0}) for x, e in adam.update.items()}
    return Dynamics("adam(beta1=0, no bias correction)", adam.state, update, adam.init)


SIMPLE = [  # (name, title, A, B, Φ) — proved by the invariant, A's state determines B's
    ("adamw_zero_decay", "AdamW(λ = 0, η_t = 1) ≡ Adam", lambda: spec("adamw", weight_decay=0, schedule_multiplier=1),
     lambda: spec("adam"), {}),
    ("adamw_torch_zero_decay", "torch AdamW(λ = 0) ≡ Adam", lambda: spec("adamw_torch", weight_decay=0),
     lambda: spec("adam"), {}),
    ("adam_torch_zero_decay", "torch Adam(λ = 0) ≡ Adam", lambda: spec("adam_torch", weight_decay=0),
     lambda: spec("adam"), {}),
    ("rmsprop_is_adam_without_m", "RMSProp(β) ≡ Adam(β₁ = 0, β₂ = β) without bias correction",
     _adam_without_bias_correction, lambda: spec("rmsprop", beta=beta2), {r: v}),
    ("rmsprop_torch_plain", "torch RMSprop(λ = 0, μ = 0, α = β) ≡ RMSProp",
     lambda: spec("rmsprop_torch", weight_decay=0, momentum=0), lambda: spec("rmsprop", beta=specs.get("rmsprop_torch").symbol("alpha")),
     {r: sp.Symbol("v", real=True)}),
    ("adamax_torch_eps0", "torch Adamax(ε = 0, λ = 0) ≡ AdaMax", lambda: spec("adamax_torch", eps=0, weight_decay=0),
     lambda: spec("adamax"), {}),
    ("nadam_beta1_zero", "Nadam(β₁ = 0) ≡ Adam(β₁ = 0)", lambda: spec("nadam", beta1=0), lambda: spec("adam", beta1=0),
     {}),
    ("nadamax_beta1_zero", "NadaMax(β₁ = 0) ≡ AdaMax(β₁ = 0)", lambda: spec("nadamax", beta1=0),
     lambda: spec("adamax", beta1=0), {}),
    ("momentum_zero_is_sgd", "Momentum(α = 0) ≡ SGD", lambda: spec("momentum", momentum=0), lambda: spec("sgd"), {}),
    ("nesterov_zero_is_sgd", "Nesterov(α = 0) ≡ SGD", lambda: spec("nesterov", momentum=0), lambda: spec("sgd"), {}),
]


def _make(a, b, phi):
    """Torch forms write m̂/√v̂ as m/(1−β₁^t)/(√v/√(1−β₂^t)); that needs 1 − β^t > 0, proved as a side step."""
    def build():
        first, second = a(), b()
        if first.name.startswith(("adam_torch", "adamw_torch")) or second.name.startswith("adamw_torch"):
            return [positivity_of_bias_corrections(), *equivalent(first, second, phi, assume=BIAS)]
        return equivalent(first, second, phi)
    return build


for _name, _title, _a, _b, _phi in SIMPLE:
    CLAIMS.claim(f"spec_identities.{_name}", _title, "equivalence", "specs/catalog (cross-spec identity)")(
        _make(_a, _b, _phi))


MU = specs.get("sgd_torch_nesterov").symbol("momentum")  # torch requires μ > 0 for Nesterov
b = sp.Symbol("b", real=True)  # torch's momentum buffer
LR = ADAM.symbol("lr")


@CLAIMS.claim("spec_identities.sgd_torch_nesterov_is_nesterov", "torch SGD(nesterov, λ = 0) ≡ Nesterov (v = −ηb)",
              "equivalence", "docs/sources/peers.md §1.1; docs/sources/seed-004.md (5.3)–(5.4)")
def torch_nesterov():
    return equivalent(spec("sgd_torch_nesterov", weight_decay=0), spec("nesterov", momentum=MU),
                      {sp.Symbol("v", real=True): -LR * b})


@CLAIMS.claim("spec_identities.sgd_torch_is_momentum", "torch SGD(μ, τ = 0, λ = 0) ≡ Momentum (v = −ηb)",
              "equivalence", "docs/sources/peers.md §1.1; docs/sources/seed-004.md (1.6)")
def torch_momentum():
    torch = specs.get("sgd_torch")
    return equivalent(spec("sgd_torch", weight_decay=0, dampening=0),
                      spec("momentum", momentum=torch.symbol("momentum")), {sp.Symbol("v", real=True): -LR * b})


@CLAIMS.claim("spec_identities.sgd_torch_dampening", "torch SGD with dampening τ ≡ Momentum with rate η(1−τ)?",
              "equivalence", "docs/sources/peers.md §1.1 (no dampening on step 1)", expected=FAILS,
              note="torch's buffer starts as g₁ undamped, so the first step is η g₁, not η(1−τ) g₁.")
def torch_dampening():
    torch = specs.get("sgd_torch")
    tau = torch.symbol("dampening")
    return equivalent(spec("sgd_torch", weight_decay=0),
                      spec("momentum", momentum=torch.symbol("momentum"), lr=LR * (1 - tau)),
                      {sp.Symbol("v", real=True): -LR * (1 - tau) * b},
                      sample={tau: [sp.Rational(1, 2)], torch.symbol("momentum"): [sp.Rational(1, 2)]})


@CLAIMS.claim("spec_identities.rmsprop_vs_adam_bias_corrected", "RMSProp(β) ≡ Adam(β₁ = 0, β₂ = β) with v̂ = v/(1−β^t)?",
              "equivalence", "docs/sources/seed-004.md §Adam ('Adam = Momentum + RMSProp')", expected=FAILS,
              note="Adam's second-moment bias correction has no counterpart in RMSProp.")
def rmsprop_vs_adam():
    return equivalent(spec("adam", beta1=0), spec("rmsprop", beta=beta2), {r: v},
                      sample={beta2: [sp.Rational(1, 2)], ADAM.symbol("eps"): [0]})
