"""Layer 0: what every other layer uses.

Errors, problem lists, input limits, progress, all-or-nothing writes, coordinate
reference systems (with GCJ-02) and the version. Imports nothing above it.
"""
