"""The read side: every read a screen, a command or a report makes.

What goes here: functions that open a read unit (`db.read()`), check the actor's scope through
`empowerment.access`, and return DataFrames or frozen dataclasses. They never write, not even to
"open" a budget period: a period nobody has opened yet is shown as it would open. `frames` reads
the four frames the payoff analytics works on. Queries never import `services` or entry points.
"""
