"""The Data page's value-mapping step (issue 13): a file's words the vocabulary does not know
yet, each mapped to a term with one select; saving remembers them as other words for those terms
(`services.vocabulary.map_values`), so the next file needs no mapping."""

from __future__ import annotations

from typing import Any

import streamlit as st

from empowerment.errors import EmpowermentError
from empowerment.models.vocabulary import KIND_NOUNS
from empowerment.queries import vocabulary as vocabulary_queries
from empowerment.services import vocabulary
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db

S = st.session_state
CHOOSE = ""


def _remember(actor: Any, unknown: dict[str, dict[str, int]], kinds: dict[str, str]) -> None:
    try:
        for column, words in unknown.items():
            mapping = {w: S.get(f"vm_{column}_{i}") for i, w in enumerate(words)}
            missing = [w for w, code in mapping.items() if not code]
            if missing:
                S["vm_error"] = f"Choose a {KIND_NOUNS[kinds[column]]} for “{missing[0]}”."
                return
            vocabulary.map_values(get_db(), actor, kinds[column], mapping)  # type: ignore[arg-type]
    except EmpowermentError as exc:
        S["vm_error"] = str(exc)
        return
    S.pop("vm_error", None)
    S.pop("dt_result", None)  # check the file again with the words now known
    S["vm_done"] = True
    st.cache_data.clear()  # the tablet's cached vocabulary


def offer(unknown_and_kinds: tuple[dict[str, dict[str, int]], dict[str, str]], actor: Any) -> None:
    unknown, kinds = unknown_and_kinds
    vocab = vocabulary_queries.vocabulary(get_db())
    with st.container(border=True, key="value_mapping"):
        st.markdown("**Map this file's words to yours**")
        st.caption("Pick what each word means. The mapping is remembered, so the next file with these words "
                   "imports without asking.")
        for column, words in unknown.items():
            kind = kinds[column]
            labels = vocab.labels(kind, active_only=True)
            for i, (word, rows) in enumerate(words.items()):
                names = {CHOOSE: f"Choose a {KIND_NOUNS[kind]}…", **labels}
                st.selectbox(ui.md(f"“{word}” ({rows:,} row{'s' if rows != 1 else ''}) means"),
                             list(names), key=f"vm_{column}_{i}", format_func=names.__getitem__)
        st.button("Remember and check again", type="primary", key="vm_save", icon=":material/repeat:",
                  on_click=callback(_remember), args=(unknown, kinds))
        if S.get("vm_error"):
            st.error(ui.md(S.pop("vm_error")))
