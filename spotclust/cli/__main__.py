"""`python -m spotclust.cli`: the same as the `spotclust` command."""

from spotclust.cli import main

main()
