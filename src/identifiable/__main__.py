"""``python -m identifiable`` is the same as the ``identifiable`` command."""

from identifiable.cli import main

if __name__ == "__main__":
    main()
