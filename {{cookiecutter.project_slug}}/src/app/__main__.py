"""`python -m app ...` is the same command line as the `app` script."""

from app.cli import main

if __name__ == "__main__":
    main()
