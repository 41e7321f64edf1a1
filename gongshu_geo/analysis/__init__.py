"""Layer 2: the measuring.

Joins to streets, service tiers, the coverage grid and its distance surfaces, walking
networks, scenarios, point coverage, indicators, site selection and the plan over
time. Imports the data and core layers, never a map or a writer.
"""
