"""Open a gongshu-geo QGIS project as a user would, export its layouts, report as JSON.

Run by tests/test_qgis_project.py with the system python3 (Debian's python3-qgis):

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_project_check.py \
        gongshu_geo.qgz OUTDIR RESULT.json

It reports the project's CRS and metadata, the layer tree (groups, layers in
order, checked or not, valid, feature counts after the subset filters,
renderer and label rules), the map themes, and for every print layout its
items, the layers of its legend, and the results of exporting it to PNG and
PDF with QgsLayoutExporter. For each layout's map it also renders the map alone
twice, with labels and without, and lists every label QGIS placed (text, layer,
rectangle in map units).
"""

import argparse
import json
import sys
from pathlib import Path


def _layer_info(layer):
    from qgis.core import QgsMapLayerType, QgsWkbTypes

    info = {
        "id": layer.id(),
        "name": layer.name(),
        "valid": layer.isValid(),
        "provider": layer.providerType(),
        "crs": layer.crs().authid(),
        "abstract": layer.metadata().abstract(),
    }
    if layer.type() == QgsMapLayerType.RasterLayer:
        from qgis.core import QgsDataSourceUri

        uri = QgsDataSourceUri()
        uri.setEncodedUri(layer.source())
        info.update(kind="raster", url=uri.param("url"), type=uri.param("type"))
        return info
    renderer = layer.renderer()
    info.update(
        kind="vector",
        geometry=QgsWkbTypes.geometryDisplayString(layer.geometryType()),
        subset=layer.subsetString(),
        features=layer.featureCount(),
        renderer=renderer.type() if renderer else None,
        labels_enabled=layer.labelsEnabled(),
        aliases={f.name(): layer.attributeAlias(i) for i, f in enumerate(layer.fields())},
    )
    if renderer is not None and renderer.type() == "categorizedSymbol":
        info["attr"] = renderer.classAttribute()
        info["categories"] = [[str(c.value()), c.label()] for c in renderer.categories()]
    if renderer is not None:
        symbols = renderer.symbols(_context())
        info["symbols"] = [
            {"colour": s.color().name(), "layers": [sl.layerType() for sl in s.symbolLayers()]}
            for s in symbols
        ]
    labeling = layer.labeling()
    if labeling is not None and labeling.type() == "rule-based":
        info["label_rules"] = [
            {
                "description": rule.description(),
                "active": rule.active(),
                "field": rule.settings().fieldName,
                "min_scale": rule.settings().minimumScale,
                "scale_visibility": rule.settings().scaleVisibility,
            }
            for rule in labeling.rootRule().children()
        ]
    return info


_CTX = []


def _context():
    from qgis.core import QgsRenderContext

    if not _CTX:
        _CTX.append(QgsRenderContext())
    return _CTX[0]


def _tree(node):
    from qgis.core import QgsLayerTreeGroup

    out = []
    for child in node.children():
        if isinstance(child, QgsLayerTreeGroup):
            out.append(
                {
                    "group": child.name(),
                    "checked": child.itemVisibilityChecked(),
                    "children": _tree(child),
                }
            )
        else:
            info = _layer_info(child.layer()) if child.layer() else {"id": child.layerId()}
            info["checked"] = child.itemVisibilityChecked()
            out.append(info)
    return out


def _render(map_item, *, labels, out_path):
    """Render one layout map alone at 150 dpi; return the labels QGIS placed."""
    from qgis.core import QgsMapRendererSequentialJob, QgsMapSettings
    from qgis.PyQt.QtCore import QSize

    dpi = 150
    w_mm, h_mm = map_item.rect().width(), map_item.rect().height()
    size = QSize(round(w_mm / 25.4 * dpi), round(h_mm / 25.4 * dpi))
    settings = QgsMapSettings()
    settings.setDestinationCrs(map_item.crs())
    settings.setLayers(map_item.layersToRender())
    settings.setExtent(map_item.extent())
    settings.setOutputSize(size)
    settings.setOutputDpi(dpi)
    settings.setBackgroundColor(map_item.backgroundColor())
    settings.setFlag(QgsMapSettings.DrawLabeling, labels)
    settings.setFlag(QgsMapSettings.Antialiasing, True)
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(str(out_path), "PNG")
    placed = []
    results = job.takeLabelingResults()
    if results is not None:
        for pos in results.allLabels():
            if getattr(pos, "isUnplaced", False):
                continue
            r = pos.labelRect
            placed.append(
                {
                    "layer": pos.layerID,
                    "text": pos.labelText,
                    "rect": [r.xMinimum(), r.yMinimum(), r.xMaximum(), r.yMaximum()],
                }
            )
    return {"png": str(out_path), "labels": placed, "scale": settings.scale()}


def _layouts(project, out_dir):
    from qgis.core import (
        QgsLayoutExporter,
        QgsLayoutItemLabel,
        QgsLayoutItemLegend,
        QgsLayoutItemMap,
        QgsLayoutItemPicture,
        QgsLayoutItemScaleBar,
    )

    report = {}
    for index, layout in enumerate(project.layoutManager().printLayouts()):
        items = layout.items()
        maps = [i for i in items if isinstance(i, QgsLayoutItemMap)]
        legends = [i for i in items if isinstance(i, QgsLayoutItemLegend)]
        labels = [i for i in items if isinstance(i, QgsLayoutItemLabel)]
        pictures = [i for i in items if isinstance(i, QgsLayoutItemPicture)]
        bars = [i for i in items if isinstance(i, QgsLayoutItemScaleBar)]
        page = layout.pageCollection().page(0)
        entry = {
            "page_mm": [page.pageSize().width(), page.pageSize().height()],
            "maps": [
                {
                    "theme": m.followVisibilityPresetName() if m.followVisibilityPreset() else "",
                    "scale": m.scale(),
                    "crs": m.crs().authid(),
                    "layers": [layer.id() for layer in m.layersToRender()],
                    "rect_mm": [m.pos().x(), m.pos().y(), m.rect().width(), m.rect().height()],
                }
                for m in maps
            ],
            "legend_layers": [
                lid for legend in legends for lid in legend.model().rootGroup().findLayerIds()
            ],
            "labels": [label.currentText() for label in labels],
            "pictures": [
                {"path": p.picturePath(), "linked_map": p.linkedMap() is not None} for p in pictures
            ],
            "scale_bars": [
                {"units": b.units(), "segment": b.unitsPerSegment(), "linked": bool(b.linkedMap())}
                for b in bars
            ],
        }
        exporter = QgsLayoutExporter(layout)
        png = out_dir / f"layout_{index}.png"
        pdf = out_dir / f"layout_{index}.pdf"
        image_settings = QgsLayoutExporter.ImageExportSettings()
        image_settings.dpi = 100
        entry["png"] = str(png)
        entry["png_result"] = int(exporter.exportToImage(str(png), image_settings))
        pdf_settings = QgsLayoutExporter.PdfExportSettings()
        pdf_settings.dpi = 150
        entry["pdf"] = str(pdf)
        entry["pdf_result"] = int(exporter.exportToPdf(str(pdf), pdf_settings))
        # a legend that sizes itself to its contents does so when drawn
        entry["legend_rects_mm"] = [
            [g.pos().x(), g.pos().y(), g.rect().width(), g.rect().height()] for g in legends
        ]
        entry["label_rects_mm"] = {
            item.id(): [item.pos().x(), item.pos().y(), item.rect().width(), item.rect().height()]
            for item in labels
        }
        if maps:
            for key, flag in (("labels", True), ("plain", False)):
                png_path = out_dir / f"map_{index}_{key}.png"
                entry[f"render_{key}"] = _render(maps[0], labels=flag, out_path=png_path)
        report[layout.name()] = entry
    return report


def _pinyin_render(project, out_dir):
    """Tick the streets' pinyin label rule (off in the project) and render the overview map."""
    from qgis.core import QgsLayoutItemMap

    streets = [
        layer
        for layer in project.mapLayers().values()
        if layer.type() == 0
        and layer.labeling() is not None
        and layer.labeling().type() == "rule-based"
        and any("pinyin" in r.description() for r in layer.labeling().rootRule().children())
    ]
    if not streets:
        return None
    for rule in streets[0].labeling().rootRule().children():
        rule.setActive(True)
    layout = project.layoutManager().printLayouts()[0]
    (map_item,) = [i for i in layout.items() if isinstance(i, QgsLayoutItemMap)]
    return _render(map_item, labels=True, out_path=out_dir / "map_pinyin.png")


def _check(path, out_dir):
    from qgis.core import QgsProject

    project = QgsProject.instance()
    ok = project.read(str(path))
    collection = project.mapThemeCollection()
    result = {
        "read": ok,
        "crs": project.crs().authid(),
        "title": project.title(),
        "abstract": project.metadata().abstract(),
        "absolute_paths": project.readBoolEntry("Paths", "/Absolute", True)[0],
        "tree": _tree(project.layerTreeRoot()),
        "themes": {
            name: collection.mapThemeVisibleLayerIds(name) for name in collection.mapThemes()
        },
        "layouts": _layouts(project, out_dir),
    }
    result["pinyin"] = _pinyin_render(project, out_dir)
    project.clear()
    return result


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("project")
    parser.add_argument("out_dir")
    parser.add_argument("result")
    args = parser.parse_args(argv)

    from qgis.core import QgsApplication

    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    messages = []

    def log(message, tag, level):
        messages.append(f"{tag}: {message}")

    QgsApplication.messageLog().messageReceived.connect(log)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = _check(Path(args.project), out_dir)
    QgsApplication.messageLog().messageReceived.disconnect(log)
    result["messages"] = messages
    with open(args.result, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False, indent=1)
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
