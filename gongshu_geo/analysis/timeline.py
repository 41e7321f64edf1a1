"""The year slider of the overview map: projects appearing and finishing year by year.

Self-contained JavaScript (no library beyond Leaflet), added to a folium map as a
control. Every project feature carries ``start_year``, ``end_year`` and
``done_year`` (the first ``completed`` entry of its status log). For the chosen
year a scheduled project is hidden before its start year, drawn dashed and faint
while under way, and solid from its end year on; one recorded as completed by then
gets a heavy outline. Projects without a schedule are always drawn. With "全部 all"
ticked, the map shows every project as it is styled by status.
"""

from __future__ import annotations

import math

from branca.element import MacroElement
from folium.template import Template

from gongshu_geo.analysis.schedule import done_year

_JS = Template(
    """
    {% macro script(this, kwargs) %}
    (function () {
      var map = {{ this._parent.get_name() }};
      var items = [];
      map.eachLayer(function (l) {
        if (l.feature && l.feature.properties && ("start_year" in l.feature.properties)) {
          items.push({layer: l, parent: null, orig: Object.assign({}, l.options)});
        }
      });
      map.eachLayer(function (g) {
        if (g.eachLayer && g.hasLayer) {
          items.forEach(function (it) { if (g !== it.layer && g.hasLayer(it.layer)
              && g.feature === undefined && g.getLayers) { it.parent = it.parent || g; } });
        }
      });
      function state(p, year) {
        if (p.start_year === null && p.end_year === null) { return "unscheduled"; }
        if (p.start_year !== null && year < p.start_year) { return "not_started"; }
        if (p.end_year !== null && year >= p.end_year) { return "due"; }
        return "in_progress";
      }
      function restyle(it, style) { if (it.layer.setStyle) { it.layer.setStyle(style); } }
      function show(year) {
        var drawn = 0, counts = {not_started: 0, in_progress: 0, due: 0, unscheduled: 0, done: 0};
        items.forEach(function (it) {
          var p = it.layer.feature.properties, o = it.orig;
          var s = year === null ? "all" : state(p, year);
          var visible = s !== "not_started";
          if (visible && !it.parent.hasLayer(it.layer)) { it.parent.addLayer(it.layer); }
          if (!visible && it.parent.hasLayer(it.layer)) { it.parent.removeLayer(it.layer); }
          if (!visible) { counts.not_started += 1; return; }
          drawn += 1;
          if (s !== "all") { counts[s] += 1; }
          var done = year !== null && p.done_year !== null && p.done_year <= year;
          if (done) { counts.done += 1; }
          if (s === "all" || s === "unscheduled") {
            restyle(it, {opacity: o.opacity, fillOpacity: o.fillOpacity, dashArray: o.dashArray,
                         weight: o.weight});
          } else if (s === "in_progress") {
            restyle(it, {opacity: 0.55, fillOpacity: 0.15, dashArray: "6 4",
                         weight: done ? 5 : o.weight});
          } else {
            restyle(it, {opacity: 1, fillOpacity: Math.max(o.fillOpacity || 0, 0.35),
                         dashArray: null, weight: done ? 5 : o.weight});
          }
        });
        var label = document.getElementById("gs-year-label");
        label.textContent = year === null ? "全部 all" : String(year);
        document.getElementById("gs-year-count").textContent = year === null
          ? drawn + " 项 projects"
          : drawn + " 项已开始或现状 drawn; " + counts.in_progress + " 在建 under way; "
            + counts.due + " 到期 due; " + counts.done + " 已记录完成 recorded done";
        window.gsTimeline.drawn = drawn;
        window.gsTimeline.counts = counts;
        return drawn;
      }
      var ctl = L.control({position: "bottomright"});
      ctl.onAdd = function () {
        var div = L.DomUtil.create("div", "gs-legend gs-timeline");
        div.innerHTML = {{ this.body|tojson }};
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      };
      ctl.addTo(map);
      var slider = document.getElementById("gs-year"), all = document.getElementById("gs-year-all");
      function update() { return show(all.checked ? null : parseInt(slider.value, 10)); }
      slider.addEventListener("input", function () { all.checked = false; update(); });
      all.addEventListener("change", update);
      window.gsTimeline = {show: show, update: update, items: items};
      update();
    })();
    {% endmacro %}
    """
)


class YearSlider(MacroElement):
    """A year slider control over the overview's project layers."""

    _template = _JS

    def __init__(self, first: int, last: int, *, as_of: int | None = None):
        super().__init__()
        self._name = "YearSlider"
        start = as_of if as_of is not None else last
        checked = "" if as_of is not None else " checked"
        self.body = (
            "<h4>规划进度 Schedule</h4>"
            f'<input type="range" id="gs-year" min="{first}" max="{last}" step="1" '
            f'value="{start}" style="width:180px">'
            '<div><b id="gs-year-label"></b></div>'
            '<div id="gs-year-count" style="max-width:220px"></div>'
            f'<label><input type="checkbox" id="gs-year-all"{checked}> 全部 all</label>'
            "<div style='color:#666;max-width:220px'>虚线 dashed: 计划在建 scheduled under way; "
            "实线 solid: 计划到期 due; 粗边 heavy: 已记录完成 recorded done; "
            "未开始的不显示 not yet started: hidden</div>"
        )


def schedule_properties(row) -> dict:
    """Return the schedule fields a project feature carries for the slider."""

    def year(value):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return None
        return None if math.isnan(value) else int(value)

    return {
        "start_year": year(getattr(row, "start_year", None)),
        "end_year": year(getattr(row, "end_year", None)),
        "done_year": year(done_year(getattr(row, "status_log", None))),
    }


def year_range(projects) -> tuple[int, int] | None:
    """First start and last end year among the projects, or None without a schedule."""
    import pandas as pd

    years = [
        pd.to_numeric(projects[c], errors="coerce")
        for c in ("start_year", "end_year")
        if c in projects
    ]
    values = pd.concat(years).dropna() if years else pd.Series(dtype=float)
    return (int(values.min()), int(values.max())) if len(values) else None
