"""The shell: builds meetbot from settings and runs it (web app, worker, CLI, sandbox).

Everything that knows about processes, environment variables, SDKs and the database together
lives here; the core (`bot`) is handed ready-made adapters and repositories.
"""

import sys

# httpx's package imports its command-line client (click, rich, pygments: about 6 MiB resident)
# whenever those happen to be installed; meetbot only uses httpx's clients. A None entry makes
# that optional import fail the way httpx expects when they are missing.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
