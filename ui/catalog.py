"""Keep the Chinese catalog in step with the code: `python -m ui.catalog update | fill FILE.json | check`.

  update      extract every `_()` / `N_()` message of app.py, pages/, ui/ and engine/ with Babel, add the new
              ones to locales/zh_CN/LC_MESSAGES/messages.po (untranslated), drop the ones the code no longer
              has, keep every translation
  fill F      take translations from a JSON object {English message: 中文} into the catalog
  check       list untranslated messages and placeholder mismatches; exit 1 if there are any
  todo        print the untranslated messages as a JSON object to fill in
  union A B   the catalog becomes every entry of the catalogs A and B (to settle a merge conflict)

The tests call `extract()` and `problems()` so that a new English string without a translation fails CI.
"""
from __future__ import annotations

import ast
import json
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO_PATH = ROOT / "locales" / "zh_CN" / "LC_MESSAGES" / "messages.po"
SOURCES = ("app.py", "pages", "ui", "engine", "classroom")
METHOD_MAP = [("app.py", "python"), ("pages/**.py", "python"), ("ui/**.py", "python"), ("engine/**.py", "python"),
              ("classroom/**.py", "python")]
KEYWORDS = {"_": None, "N_": None}
MARKERS = set(KEYWORDS)


def extract() -> dict[str, list[str]]:
    """Every message the code marks, with where it is (path:line)."""
    found: dict[str, list[str]] = {}
    for path, line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHOD_MAP, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True):
        if isinstance(message, str) and message:
            found.setdefault(message, []).append(f"{path}:{line}")
    return found


def non_literal_calls() -> list[str]:
    """Every place in the code where a marked message cannot be extracted (see `unextractable`)."""
    return [f"{path.relative_to(ROOT)}:{line}" for path in _python_files()
            for line in unextractable(path.read_text(encoding="utf-8"))]


def _marker(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS


def unextractable(source: str) -> list[int]:
    """Lines of marked messages Babel cannot extract: `N_()` of anything but one string, `_()` of an f-string,
    and `_("a literal")` inside an f-string (Babel does not look there, so the message never reaches the catalog).

    `_(variable)` is allowed: it translates, where it is shown, a message marked with `N_()` elsewhere.
    """
    tree, lines = ast.parse(source), []
    for node in filter(_marker, ast.walk(tree)):
        literal = len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
        if (node.func.id == "N_" and not literal) or (node.args and isinstance(node.args[0], ast.JoinedStr)):
            lines.append(node.lineno)
    for joined in (n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)):
        lines += [call.lineno for call in filter(_marker, ast.walk(joined))
                  if call.args and isinstance(call.args[0], ast.Constant)]
    return sorted(lines)


def _python_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in SOURCES[1:]:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def placeholders(message: str) -> set[str]:
    """The named fields of a str.format message ({n}, {acc:.1%} → n, acc)."""
    try:
        return {field for _text, field, _spec, _conv in string.Formatter().parse(message) if field is not None}
    except ValueError:  # a lone brace: not a format string
        return set()


def load() -> Catalog:
    with open(PO_PATH, "rb") as po:
        return read_po(po, locale="zh_CN")


def save(catalog: Catalog) -> None:
    for message in catalog:
        message.flags.discard("python-format")  # Babel's guess from a "%"; the app formats with str.format
    with open(PO_PATH, "wb") as po:
        write_po(po, catalog, width=0, sort_output=True, omit_header=False, include_previous=False,
                 no_location=True)


def problems(catalog: Catalog, messages: dict[str, list[str]]) -> list[str]:
    """Each message without a Chinese translation, or whose translation's placeholders differ."""
    out = []
    for message, where in sorted(messages.items()):
        entry = catalog.get(message)
        if entry is None or not entry.string:
            out.append(f"untranslated ({where[0]}): {message[:80]!r}")
        elif entry.fuzzy:
            out.append(f"fuzzy ({where[0]}): {message[:80]!r}")
        elif placeholders(message) != placeholders(entry.string):
            out.append(f"placeholders differ ({where[0]}): {sorted(placeholders(message))} vs "
                       f"{sorted(placeholders(entry.string))} in {message[:60]!r}")
    return out


def update() -> Catalog:
    messages = extract()
    old = load() if PO_PATH.exists() else Catalog(locale="zh_CN")
    new = Catalog(locale="zh_CN", project="Neural-network playground", fuzzy=False,
                  creation_date=old.creation_date, revision_date=old.revision_date,
                  last_translator=old.last_translator, language_team=old.language_team)
    for message in messages:
        entry = old.get(message)
        new.add(message, string=entry.string if entry is not None else "")
    PO_PATH.parent.mkdir(parents=True, exist_ok=True)
    save(new)
    return new


def union(ours: Path, theirs: Path) -> None:
    """Resolve a merge conflict in the catalog: every entry of both sides (a translation beats none)."""
    with open(ours, "rb") as a, open(theirs, "rb") as b:
        left, right = read_po(a, locale="zh_CN"), read_po(b, locale="zh_CN")
    for entry in right:
        if entry.id and (left.get(entry.id) is None or not left.get(entry.id).string):
            left.add(entry.id, string=entry.string)
    save(left)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        catalog = update()
        print(f"{len(catalog)} messages; {len(problems(catalog, extract()))} to translate")
        return 0
    if command == "fill":
        translations = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        catalog = load()
        for message, text in translations.items():
            entry = catalog.get(message)
            if entry is None:
                print(f"not in the catalog (run update first?): {message[:80]!r}", file=sys.stderr)
                continue
            entry.string, entry.flags = text, set()
        save(catalog)
        return 0
    if command == "union":
        union(Path(argv[1]), Path(argv[2]))
        return 0
    if command == "todo":
        catalog = load()
        print(json.dumps({m: "" for m in extract() if not (catalog.get(m) and catalog.get(m).string)},
                         ensure_ascii=False, indent=1))
        return 0
    found = problems(load(), extract()) + [f"not a plain string: {where}" for where in non_literal_calls()]
    print("\n".join(found) or "every message is translated")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
