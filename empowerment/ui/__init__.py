"""Streamlit helpers for the pages: who is signed in (`session`), the sign-in gate and screen
(`signin`), the page registry (`nav`), shared widgets (`components`) and pickers (`pickers`).

What goes here: anything a page would otherwise write twice. No SQL and no business rules: the
helpers call queries and services like the pages do.
"""
