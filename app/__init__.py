"""The shell: builds meetbot from settings and runs it (web app, worker, CLI, sandbox).

Everything that knows about processes, environment variables, SDKs and the database together
lives here; the core (`bot`) is handed ready-made adapters and repositories.
"""
