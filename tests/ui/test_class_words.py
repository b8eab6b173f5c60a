"""Every refusal of the class store, and every template's name, has an English and a hand-written Chinese sentence."""
import re

import pytest

from classroom import CUSTOM, REFUSALS, TEMPLATES
from ui.class_words import UNKNOWN_TEXT, refusal_text, template_label
from ui.i18n import speaking

HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"\b[a-z]{3,}\b")  # an English word left in a Chinese sentence


@pytest.mark.parametrize("kind", REFUSALS)
def test_every_refusal_kind_is_worded_in_english_and_chinese(kind):
    english = refusal_text(kind)
    with speaking("zh"):
        chinese = refusal_text(kind)
    assert english and not HAN.search(english)
    assert HAN.search(chinese) and not LATIN_WORD.search(chinese), chinese
    assert chinese != english
    for text in (english, chinese):
        assert "{" not in text and "}" not in text  # no placeholder left


@pytest.mark.parametrize("detail", sorted(UNKNOWN_TEXT))
def test_each_unknown_thing_has_its_own_sentence(detail):
    assert refusal_text("unknown", detail) != refusal_text("unknown")
    with speaking("zh"):
        assert HAN.search(refusal_text("unknown", detail))


def test_the_sentences_say_what_to_do():
    assert refusal_text("expired") == "That join code has expired: ask your teacher for today's code."
    assert refusal_text("rate") == "Too many sends: wait a minute and send again."
    assert refusal_text("closed") == "This experiment is closed: your teacher has stopped taking results."
    with speaking("zh"):
        assert refusal_text("rate") == "发送太频繁：请等一分钟再发送。"


@pytest.mark.parametrize("template_id", [*TEMPLATES, *CUSTOM])
def test_every_template_is_named_in_both_languages(template_id):
    english = template_label(template_id)
    with speaking("zh"):
        chinese = template_label(TEMPLATES.get(template_id) or CUSTOM[template_id])
    assert english and HAN.search(chinese) and chinese != english
