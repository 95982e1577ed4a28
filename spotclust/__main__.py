"""The `spotclust` command's entry point (and `python -m spotclust`).

It imports the CLI inside a handler, so that Ctrl-C while the libraries load ends with one
line, like Ctrl-C anywhere else, instead of a traceback.
"""

import sys

INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def main() -> None:
    try:
        from spotclust.cli import main as run_cli
    except KeyboardInterrupt:
        print("Error: interrupted (Ctrl-C) while starting; nothing was done", file=sys.stderr)
        sys.exit(INTERRUPTED)
    run_cli()


if __name__ == "__main__":
    main()
