"""`python -m leakhunt.child TASK.json`: how the parent (harness/launch.py) starts a strategy's child."""

from leakhunt.child.entry import main

# Guarded: importing this module (pkgutil.walk_packages, tools listing the package) must not start a child.
if __name__ == "__main__":
    main()
