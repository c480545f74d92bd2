"""The write side: every change to the data goes through a function here.

What goes here: one function per user action (log a gesture, approve it, set a policy, import a
file ...). Each takes the `Database` and the calling `Actor`, checks the actor's right through
`empowerment.access`, opens exactly one unit of work (`db.write()`), does the job, commits once and
rolls back on anything else, and raises a domain error (`empowerment.errors`) with a sentence a
person can read. Money moves only through `ledger.post`. Services never import `queries`, pages,
the CLI or the API: entry points call services, not the other way round.
"""
