"""The class's words: each refusal of the class store (classroom.REFUSALS) and each template name, in the session's language.

The store answers with a kind and a field name (Refused(kind, detail)), never a sentence; this file turns them
into what a student or a teacher reads. The detail is a field name, not text to show: it only picks a sentence.
"""
from __future__ import annotations

from classroom import REFUSALS
from classroom.templates import Template
from ui.i18n import N_, _

REFUSAL_TEXT = {  # kind -> message id (marked; shown as _(text))
    "bad_number": N_("A number in this result is not a finite number: nothing was stored. Run again and send."),
    "too_big": N_("That is too long or too large to store: nothing was stored."),
    "bad_field": N_("This result is missing something the experiment needs or has something it does not expect: "
                    "nothing was stored."),
    "bad_name": N_("That name is too long: use at most 40 letters, or leave it empty."),
    "bad_variant": N_("That variant is not one of this experiment's variants."),
    "rate": N_("Too many sends: wait a minute and send again."),
    "closed": N_("This experiment is closed: your teacher has stopped taking results."),
    "full": N_("This class is full: ask your teacher."),
    "forged": N_("That link or key is not valid here."),
    "expired": N_("That join code has expired: ask your teacher for today's code."),
    "unknown": N_("Nothing here has that name or number."),
    "not_joined": N_("You are not in this class (or it has ended): join again with the class code."),
    "not_yours": N_("That run was sent by someone else: start a new run and send it."),
}
UNKNOWN_TEXT = {  # Refused("unknown", detail): which thing was not found
    "code": N_("No class has that join code: check it with your teacher (letters and digits, e.g. K7P2QX)."),
    "class": N_("This class no longer exists: ask your teacher for a new code."),
    "experiment": N_("This experiment no longer exists: look at the class box for the current one."),
    "template": N_("That kind of experiment does not exist."),
}
assert set(REFUSAL_TEXT) == set(REFUSALS), set(REFUSALS) ^ set(REFUSAL_TEXT)


def refusal_text(kind: str, detail: str | None = None) -> str:
    """The sentence for a store refusal (Refused.kind, Refused.detail) in the session's language."""
    if kind == "unknown" and detail in UNKNOWN_TEXT:
        return _(UNKNOWN_TEXT[detail])
    return _(REFUSAL_TEXT.get(kind, REFUSAL_TEXT["forged"]))


def template_label(template: Template | str) -> str:
    """A template's name (a Template or its id) in the session's language."""
    if isinstance(template, str):
        from classroom.templates import template as by_id

        try:
            template = by_id(template)
        except KeyError:
            return template
    return _(template.label)


__all__ = ["refusal_text", "template_label", "REFUSAL_TEXT", "UNKNOWN_TEXT"]
