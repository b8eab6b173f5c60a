"""What a page shows, as text, and what English is left in it once it speaks Chinese (or Chinese in English)."""
from __future__ import annotations

import json
import re

# Names that stay in Latin letters in the Chinese interface (GLOSSARY.md): activations, optimizers, datasets,
# people, books' and tools' names, units.
NAMES = {"sigmoid", "tanh", "relu", "leaky", "softmax", "adam", "sgd", "momentum", "mnist", "mnist5k", "idx",
         "xavier", "he", "glorot", "kaiming", "nielsen", "3blue1brown", "wakui", "pendigits", "uci", "moons",
         "circles", "xor", "and", "or", "nand", "epoch", "epochs", "dropout", "png", "jpeg", "jpg", "gif", "bmp",
         "webp", "pt", "json",
         "csv", "url", "qr", "cpu", "ms", "mb", "kb", "s", "pca", "ece", "l2", "bp1", "bp2", "bp3", "bp4",
         "mse", "ce", "plotly", "streamlit", "haproxy", "python", "sklearn", "scikit", "learn", "gb",
         "sign", "gd", "mlp", "lr", "ok", "vs", "max", "min", "log", "exp", "ln", "argmax", "std", "auto"}
LATEX = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\\\(.*?\\\)", re.S)
URL = re.compile(r"https?://\S+|\?[a-z_]+=\S*|[\w./-]+\.(py|pt|png|json|csv|md|gz)\b")
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
STYLE = re.compile(r"<style\b.*?</style>", re.S | re.I)  # a page's CSS is not text anyone reads
CJK = re.compile(r"[\u4e00-\u9fff]")


def english_left(text: str) -> list[str]:
    """Runs of two or more English words in text (formulas, code, links and names taken out)."""
    text = URL.sub(" ", LATEX.sub(" ", STYLE.sub(" ", text)))
    found, run = [], []
    for token in re.split(r"(\s+)", text):
        if not token.strip():
            continue
        words = WORD.findall(token)
        if len(words) == 1 and words[0].lower() not in NAMES and len(words[0]) > 1 and re.fullmatch(
                r"[(\[\"'“‘]*[A-Za-z][A-Za-z'’-]*[A-Za-z][)\]\"'”’.,:;!?]*", token):
            run.append(words[0])
            continue
        if len(run) >= 2:
            found.append(" ".join(run))
        run = []
    if len(run) >= 2:
        found.append(" ".join(run))
    return found


def chinese_in(text: str) -> list[str]:
    return CJK.findall(text)


def figure_texts(spec: str | dict) -> list[str]:
    """Every text a Plotly figure shows: titles, axis titles, legend names, hover templates, annotations."""
    figure = json.loads(spec) if isinstance(spec, str) else spec
    out = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            if key in ("text", "ticktext", "hovertext", "customdata") :
                out.extend(x for x in node if isinstance(x, str))
            for v in node:
                if isinstance(v, (dict, list)):
                    walk(v, key)
        elif isinstance(node, str) and key in ("text", "name", "hovertemplate", "title", "ticksuffix"):
            out.append(re.sub(r"<[^>]+>|%\{[^}]*\}", " ", node))

    walk(figure.get("data", [])), walk(figure.get("layout", {}))
    return out


def page_texts(at) -> list[str]:
    """Every text an AppTest page shows a reader: markdown, captions, labels, options, help, alerts, figures."""
    out = []
    for node in _nodes(at._tree):
        if getattr(node, "type", "") == "code":  # commands and code stay as they are
            continue
        proto = getattr(node, "proto", None)
        for field in ("body", "label", "help", "placeholder", "value", "caption"):
            if field == "value" and getattr(node, "options", None):
                continue  # a choice's value is a key (kept in English); the reader sees its option, below
            value = getattr(node, field, None)
            if isinstance(value, str):
                out.append(value)
        for option in getattr(node, "options", None) or []:
            if isinstance(option, str):
                out.append(option)
        if proto is not None and hasattr(proto, "spec") and getattr(node, "type", "") == "plotly_chart":
            out.extend(figure_texts(proto.spec))
        elif proto is not None and proto.__class__.__name__ == "PlotlyChart":
            out.extend(figure_texts(proto.spec))
    return out


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) \
            else []:
        yield from _nodes(child)


def unwrapped(text: str) -> str:
    """A figure text as written, before ui.theme.fit_texts wrapped it: a <br> that took a space's place (between
    two Latin characters, or a Latin character and a Chinese one, as the catalog spaces them) becomes the space
    again; one between Chinese characters or after Chinese punctuation goes."""
    latin, han = r"[\x21-\x7e]", r"[\u4e00-\u9fff]"
    spaced = rf"(?<={latin})<br>(?={latin}|{han})|(?<={han})<br>(?={latin})"
    return re.sub(spaced, " ", text).replace("<br>", "")
