"""Files in and out: loading a tracks file into the warehouse (ingest), writing a run out
(export), and writing synthetic tracks (synth)."""
