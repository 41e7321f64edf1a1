"""Layer 4: the writing for GIS software.

GeoPackage, Shapefile, KML, GeoJSON, CSV, File Geodatabase, GeoParquet, PostGIS, and
QGIS styles and projects. Imports the layers below; the pipeline calls it.
"""
