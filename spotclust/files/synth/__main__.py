"""python -m spotclust.files.synth ROWS OUT [SEED]: write a synthetic file (the benchmark uses
this, so it works without the CLI)."""

import sys
import time
from pathlib import Path

from spotclust.files.synth.write import synthesize


def main() -> None:
    rows, out = int(sys.argv[1]), Path(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    t = time.perf_counter()
    synthesize(rows, out, seed, on_chunk=lambda done, total: print(f"{done}/{total} rows"))
    print(f"wrote {out} ({out.stat().st_size} bytes) in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
