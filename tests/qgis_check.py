"""Open an exported GeoPackage in QGIS and report what QGIS sees, as JSON.

Run by tests/test_qgis.py with the system python3 (Debian's python3-qgis), not
the project's venv:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_check.py OUT.gpkg RESULT.json \
        --polygons streets --points projects_park_point projects_metro_station

For every layer: whether it is valid, its geometry type, feature count, the
renderer QGIS applied on load (the GeoPackage's default style), its categories
and the field aliases. Then QGIS's own "native:countpointsinpolygon" counts the
given point layers in each polygon, summed per ``street_code``.
"""

import argparse
import json
import sys


def _sublayer_names(path):
    from qgis.core import QgsVectorLayer

    probe = QgsVectorLayer(path, "probe", "ogr")
    names = []
    for sub in probe.dataProvider().subLayers():
        parts = sub.split("!!::!!")
        if len(parts) > 1 and parts[1] not in names:
            names.append(parts[1])
    return names


def _describe(layer):
    from qgis.core import QgsWkbTypes

    renderer = layer.renderer()
    info = {
        "valid": layer.isValid(),
        "geometry": QgsWkbTypes.displayString(layer.wkbType()),
        "features": layer.featureCount(),
        "renderer": renderer.type() if renderer else None,
        "aliases": {f.name(): layer.attributeAlias(i) for i, f in enumerate(layer.fields())},
    }
    if renderer is not None and renderer.type() == "categorizedSymbol":
        info["attr"] = renderer.classAttribute()
        info["categories"] = [[str(c.value()), c.label()] for c in renderer.categories()]
    return info


def _check(args):
    """Everything QGIS is asked; its layers are gone when this returns (before exitQgis)."""
    import processing
    from qgis.core import QgsVectorLayer

    result = {"layers": {}, "counts": {}}
    for name in _sublayer_names(args.gpkg):
        layer = QgsVectorLayer(f"{args.gpkg}|layername={name}", name, "ogr")
        result["layers"][name] = _describe(layer)

    polygons = QgsVectorLayer(f"{args.gpkg}|layername={args.polygons}", args.polygons, "ogr")
    for points_name in args.points:
        points = QgsVectorLayer(f"{args.gpkg}|layername={points_name}", points_name, "ogr")
        out = processing.run(
            "native:countpointsinpolygon",
            {"POLYGONS": polygons, "POINTS": points, "FIELD": "NUMPOINTS", "OUTPUT": "memory:"},
        )["OUTPUT"]
        for feature in out.getFeatures():
            code = str(feature["street_code"])
            result["counts"][code] = result["counts"].get(code, 0) + int(feature["NUMPOINTS"])
    return result


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("gpkg")
    parser.add_argument("result")
    parser.add_argument("--polygons", default="streets")
    parser.add_argument("--points", nargs="*", default=[])
    args = parser.parse_args(argv)

    from qgis.core import QgsApplication

    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    messages = []

    def log(message, tag, level):
        messages.append(f"{tag}: {message}")

    QgsApplication.messageLog().messageReceived.connect(log)
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    Processing.initialize()
    result = _check(args)
    QgsApplication.messageLog().messageReceived.disconnect(log)
    result["messages"] = messages
    with open(args.result, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False, indent=1)
    Processing.deinitialize()
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
