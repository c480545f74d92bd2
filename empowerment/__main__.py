"""`python -m empowerment ...`: see `empowerment.cli`."""

from empowerment.cli import main

raise SystemExit(main())
