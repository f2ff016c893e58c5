"""`python -m leakhunt` runs the same CLI as the `leakhunt` console script."""

from leakhunt.cli import main

if __name__ == "__main__":
    main()
