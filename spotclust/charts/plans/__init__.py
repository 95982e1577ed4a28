"""Each chart's plan: from its data (small polars frames), everything its drawing needs, with
no Altair: the rows it draws, and every value computed from them (domains, sort orders,
sizes, subtitles), as a spec.Plan. A page fills the chart's template with it (spec.py); the
Altair modules draw it (authoring.py).

One module per group of charts, as the drawings: features, map, selection, clusters, genres,
diagnostics.
"""
