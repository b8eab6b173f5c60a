"""ui.fragments: every fragment of every page is its parent block's last child (in practice its only one).

Streamlit 1.67 drops a fragment's unsent block when the fragment's next run starts right after a full run, and the
browser then moves the fragment's later siblings up onto its slot, where the fragment's run overwrites them (the
lesson panel lost its step bar, question and Next this way under load; see ui/fragments.py). The check here reads
the messages each page run sends, as the browser would: for each fragment's outermost block at [.., k], no block or
element outside that fragment may follow it at [.., j > k] in the same parent.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import local_script_runner

import classroom
from tests.apptest import open_page
from tests.lessons.test_panel import in_frame
from tests.pages.test_board import store_url  # noqa: F401  (a fixture: this test's own class store)
from ui.fragments import in_own_slot


@pytest.fixture
def sent(monkeypatch):
    """The ForwardMsgs of each AppTest run of this test, a list per run."""
    messages = []
    parse = local_script_runner.parse_tree_from_messages

    def recording(msgs):
        messages.append(list(msgs))
        return parse(msgs)

    monkeypatch.setattr(local_script_runner, "parse_tree_from_messages", recording)
    return messages


def later_siblings(runs) -> list[str]:
    """For each fragment's outermost delta at path P: the deltas of its run outside the fragment that come after it
    in P's parent (what the browser moves onto P when the fragment's block is dropped)."""
    found = []
    for messages in runs:
        deltas = [(tuple(m.metadata.delta_path), m.delta.fragment_id) for m in messages
                  if m.WhichOneof("type") == "delta"]
        by_fragment: dict[str, set] = {}
        for path, fragment in deltas:
            if fragment:
                by_fragment.setdefault(fragment, set()).add(path)
        for fragment, paths in by_fragment.items():
            for top in (p for p in paths if p[:-1] not in paths):  # the fragment's outermost block(s)
                parent, k = top[:-1], top[-1]
                found += [f"fragment {fragment[:8]} at {list(top)}: {list(path)} follows it"
                          for path, other in deltas
                          if other != fragment and len(path) > len(parent) and path[:len(parent)] == parent
                          and path[len(parent)] > k]
    return found


def fragment_count(runs) -> int:
    return len({m.delta.fragment_id for messages in runs for m in messages
                if m.WhichOneof("type") == "delta" and m.delta.fragment_id})


@pytest.mark.parametrize("page,query", [
    ("pages/train.py", None),
    ("pages/neuron.py", None),
    ("pages/gradients.py", None),
])
def test_a_pages_fragments_have_no_sibling_after_them(sent, page, query):
    open_page(page, query)
    assert fragment_count(sent) >= 1  # the page has fragments: the check below looks at something
    assert later_siblings(sent) == []


@pytest.fixture
def store(store_url):
    return classroom.open_store(store_url)


def test_a_paced_students_lesson_panel_and_the_teachers_board_have_no_sibling_after_a_fragment(sent, store):
    class_id, code, key = store.create_class("Period 3")
    _, token = store.join(code, "Ann")
    store.create_experiment(key, class_id, "depth")
    store.start_lesson(key, class_id, "nielsen-ch5", 6, paced=True)
    at = open_page("pages/gradients.py", {"lesson": "nielsen-ch5", "step": "1", "cls": token})  # its pace check
    in_frame(at.radio(key="lesson_q_nielsen-ch5_0").set_value(0).run())  # answered: the page's own fragments too
    open_page("pages/board.py", {"teacher": key})  # the live lesson and the live experiment board
    assert fragment_count(sent) >= 5
    assert later_siblings(sent) == []


def test_the_check_finds_a_fragment_with_a_sibling_after_it_and_in_own_slot_removes_it(sent):
    from streamlit.testing.v1 import AppTest

    def page(own_slot: bool):
        import streamlit as st

        from ui.fragments import in_own_slot

        @st.fragment(run_every=60)
        def watch():
            st.empty()

        with st.container(border=True):
            (in_own_slot if own_slot else lambda f: f())(watch)
            st.columns(2)[0].button("Next")
            st.caption("after the fragment")

    for own_slot, expected in ((False, True), (True, False)):
        sent.clear()
        at = AppTest.from_function(page, args=(own_slot,))
        at.run()
        assert not at.exception
        assert fragment_count(sent) == 1
        assert bool(later_siblings(sent)) is expected
    assert in_own_slot(lambda x: x + 1, 1) == 2  # returns what the fragment's first run returns
