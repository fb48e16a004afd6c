"""HTML and text renderings of results for people: one stylesheet, the shared pieces, one palette (see html.py)."""
