"""QGIS styles (QML), labels, project XML, notes and A3 print layouts."""
