"""Running one strategy's child (named so that `leakhunt.soak` stays the API function): launch and reap
(launch.py), watch it (monitor.py), stop it once its verdict is settled (settle_watch.py), classify how it
ended (exit_status.py), show its progress on the terminal (progress_ui.py), and tie them together (strategy.py).

May import: rundir, sampling, analysis (the settle rule, pure), units. Never report, and never the child: it is
started as a process (`python -m leakhunt.child`) and known only through its run folder and exit code.
"""
