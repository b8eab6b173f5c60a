"""The class experiments a teacher starts from, as data: what each student runs and what a result must carry.

Variants are settings dicts in the pages' URL vocabulary (engine.nn.spec.URL_KEYS: "layers", "act", "init",
"loss", "opt", "lr", "bs", "ep", "n", "seed", "ds", ...), plus "k" on the Gradients page: the training steps
after which δ is profiled again. `label` is a message id (marked with N_): ui/ shows _(template.label).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from engine.text import N_

PAGES = ("train", "gradients", "draw")
PAGE_KEYS = {"gradients": ("k",)}  # keys a page reads beyond engine.nn.spec.URL_KEYS
MAX_VARIANTS = 12
MAX_VALUE = 300  # characters of one setting (engine.nn.spec.MAX_URL_VALUE)


@dataclass(frozen=True)
class Template:
    """One kind of class experiment."""

    id: str  # stable key, stored with each experiment
    label: str  # message id of its name, shown as _(label)
    page: str  # where a student runs it: one of PAGES
    variants: tuple[dict[str, str], ...]  # settings per variant; () for "collect our digits"
    key: str | None  # the number "what the class found" summarises per variant (None: no number)
    numbers: tuple[str, ...] = ()  # numbers a result must carry (results.NUMBERS / DERIVED names)
    parts: tuple[str, ...] = ()  # other parts a result must carry: "deltas", "verdict", "curve", "digits"
    log: bool = False  # the key spans orders of magnitude: board means are geometric, spreads in log10
    factor: str | None = None  # from_settings: the one setting varied


DEEP = {"layers": "30,30,30,30", "loss": "ce", "ds": "mnist5k", "bs": "256", "seed": "0", "opt": "sgd",
        "lr": "0.03", "k": "100"}
TRAIN = {"ds": "mnist5k", "n": "4000", "layers": "128,64", "act": "relu", "init": "he", "loss": "ce",
         "opt": "adam", "lr": "0.003", "bs": "64", "ep": "5", "seed": "0"}
TRAINED = ("final_loss", "train_acc", "val_acc")


def _each(base: dict[str, str], key: str, values) -> tuple[dict[str, str], ...]:
    return tuple({**base, key: str(v)} for v in values)


TEMPLATES: dict[str, Template] = {t.id: t for t in (
    Template("init_activation", N_("Init × activation in a deep net"), "gradients",
             tuple({**DEEP, "act": act, "init": init} for act, init in (
                 ("sigmoid", "normal"), ("sigmoid", "xavier"), ("tanh", "normal"), ("tanh", "xavier"),
                 ("relu", "normal"), ("relu", "he"))),
             key="ratio_init", numbers=("ratio_init", "ratio_trained"), parts=("deltas", "verdict"), log=True),
    Template("depth", N_("Depth sweep"), "train",
             _each({**TRAIN, "act": "sigmoid", "init": "xavier", "opt": "sgd", "lr": "0.5"}, "layers",
                   ("32", "32,32", "32,32,32,32", "32,32,32,32,32,32,32,32")),
             key="val_acc", numbers=TRAINED, parts=("deltas", "curve")),
    Template("learning_rate", N_("Learning-rate sweep"), "train",
             _each({**TRAIN, "opt": "sgd"}, "lr", ("0.001", "0.01", "0.1", "1", "10")),
             key="final_loss", numbers=TRAINED, parts=("curve",), log=True),
    Template("seeds", N_("Seeds of one configuration"), "train", _each(TRAIN, "seed", range(10)),
             key="val_acc", numbers=TRAINED, parts=("curve",)),
    Template("width_overfitting", N_("Width vs overfitting"), "train",
             _each({**TRAIN, "n": "200", "bs": "20", "ep": "60"}, "layers", ("4", "16", "64", "256", "1024")),
             key="gap", numbers=TRAINED + ("val_loss", "gap"), parts=("curve",)),
    Template("digits", N_("Collect our digits"), "draw", (), key=None, parts=("digits",)),
)}
# "current settings with one varied factor" (from_settings): a Train or a Gradients run, key as above
CUSTOM: dict[str, Template] = {t.id: t for t in (
    Template("custom_train", N_("Train: one setting varied"), "train", (), key="val_acc", numbers=TRAINED,
             parts=("curve",)),
    Template("custom_gradients", N_("Gradients: one setting varied"), "gradients", (), key="ratio_init",
             numbers=("ratio_init", "ratio_trained"), parts=("deltas", "verdict"), log=True),
)}


def template(template_id: str) -> Template:
    """The template by id (TEMPLATES or CUSTOM); KeyError if none."""
    return TEMPLATES.get(template_id) or CUSTOM[template_id]


def from_settings(params: dict[str, str], factor: str, values, page: str = "train") -> Template:
    """The page's current settings (engine.nn.spec.to_params) once per value of one factor."""
    base = CUSTOM[f"custom_{page}"]
    return replace(base, variants=_each(dict(params), factor, values), factor=factor)


def check_variants(tmpl: Template, variants) -> tuple[dict[str, str], ...]:
    """Variants as plain string dicts the page's settings accept; ValueError names the first bad one.

    Each is checked by the engine's own URL reader (engine.nn.spec.from_params), imported here so that
    `import classroom` does not load torch.
    """
    if tmpl.page == "draw":
        if variants:
            raise ValueError("a drawing experiment has no variants")
        return ()
    from engine.nn.spec import URL_KEYS, SpecError, from_params

    if not isinstance(variants, (list, tuple)) or not 1 <= len(variants) <= MAX_VARIANTS:
        raise ValueError(f"give 1-{MAX_VARIANTS} variants")
    known = set(URL_KEYS) | set(PAGE_KEYS.get(tmpl.page, ()))
    clean = []
    for i, variant in enumerate(variants):
        if not isinstance(variant, dict) or not all(isinstance(k, str) and k in known for k in variant):
            raise ValueError(f"variant {i}: settings must use the keys {sorted(known)}")
        settings = {k: str(v) for k, v in variant.items()}
        if any(len(v) > MAX_VALUE for v in settings.values()):
            raise ValueError(f"variant {i}: a setting is longer than {MAX_VALUE} characters")
        if "k" in settings and not (settings["k"].isdigit() and int(settings["k"]) <= 5000):
            raise ValueError(f"variant {i}: k must be 0-5000 training steps")
        try:
            from_params(settings)
        except SpecError as exc:
            raise ValueError(f"variant {i}: {exc}") from None
        clean.append(settings)
    return tuple(clean)


def variant_labels(variants) -> list[dict[str, str]]:
    """Per variant, only the settings that differ between variants (what a board's legend names)."""
    keys = sorted({k for v in variants for k in v})
    varied = [k for k in keys if len({v.get(k) for v in variants}) > 1]
    return [{k: v.get(k, "") for k in varied} for v in variants]


__all__ = ["Template", "TEMPLATES", "CUSTOM", "PAGES", "template", "from_settings", "check_variants",
           "variant_labels"]
