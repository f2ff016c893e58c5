"""`python -m leakhunt` runs the same CLI as the `leakhunt` console script."""

from leakhunt.cli.app import main

if __name__ == "__main__":
    main()
