"""Synthetic Spotify Tracks data at any size, with the real data's schema and per-genre shape.

``synthesize(rows, out, seed)`` writes a file that ``spotclust ingest`` loads like the shipped
dataset: the same 20 columns (plus the unnamed leading index column in CSV), the 114 genres in
equal shares and in file order, and values drawn genre by genre from distributions fitted to the
shipped data (or to any file with the same columns).

* ``fit``: the per-genre model (sorted feature values, copula correlations, co-listings);
* ``features``: a genre's feature rows drawn from that model, rounded as the real file has them;
* ``names``: track ids, artists, albums and track names;
* ``draw``: one chunk of rows, with the quirks that the cleaning views exist for;
* ``write``: the file, chunk by chunk, as CSV, gzipped CSV or Parquet.

The same rows, seed and source give a byte-identical file.
"""

from spotclust.files.synth.draw import CHUNK_ROWS
from spotclust.files.synth.fit import FEATURES, GenreModel, fit_model
from spotclust.files.synth.names import track_ids
from spotclust.files.synth.write import FORMATS, output_format, synthesize

__all__ = [
    "CHUNK_ROWS",
    "FEATURES",
    "FORMATS",
    "GenreModel",
    "fit_model",
    "output_format",
    "synthesize",
    "track_ids",
]
