"""Command-line interface placeholder (filled in below)."""


def main(argv=None) -> int:
    return 0
