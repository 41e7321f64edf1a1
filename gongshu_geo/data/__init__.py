"""Layer 1: the inputs.

Readers for every source (files, PostGIS, CSV and Parquet points, GraphML), the
schema and its validation, and synthetic data. Imports only :mod:`gongshu_geo.core`.
"""
