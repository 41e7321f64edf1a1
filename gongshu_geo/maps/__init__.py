"""Layer 3: the drawing.

The one style table, basemaps, offline assets, the Folium web maps, the static PNG
maps and the per-street pages. Imports the layers below, never the exchange layer.
"""
