"""`python -m leakhunt.child TASK.json`: how the parent (harness/launch.py) starts a strategy's child."""

from leakhunt.child.entry import main

main()
