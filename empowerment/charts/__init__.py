"""Altair chart builders, the one home of every chart the app draws: plain functions that take a small,
already aggregated DataFrame and return an `alt.Chart`. Pages place them, the joint report renders
them to images; nothing here imports Streamlit or reads the database.

- `payoff`: the Payoff page (time to return, return rates, spend against incremental revenue, ...).
- `team`: the Team page (weekly activity heatmap, spend breakdown).
- `budget`: My budget (spend over the period against the allocation).
- `report`: the joint report's printed charts.
"""
