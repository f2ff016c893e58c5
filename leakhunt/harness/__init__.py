"""Running one strategy's child (named so that `leakhunt.soak` stays the API function): launch and reap
(launch.py), watch it (monitor.py), stop it once its verdict is settled (settle_watch.py), classify how it
ended (exit_status.py), and tie them together (strategy.py)."""
