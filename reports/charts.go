package reports

import (
	"bytes"
	"encoding/json"
	"html/template"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// Chart options are built with go-echarts and serialised as JSON; the page
// script (assets/report.js) adds the French formatters and the "s" of
// masked figures, so no function travels inside the JSON.
//
// A point is a figure: masked (statistical confidentiality, no value at
// all), missing (no row) or a value.

type point struct {
	v       float64
	masked  bool
	missing bool
}

func pointOf(c cell, ok bool) point {
	switch {
	case !ok:
		return point{missing: true}
	case c.masked:
		return point{masked: true}
	case math.IsNaN(c.value):
		return point{missing: true}
	}
	return point{v: c.value}
}

// item is the JSON of a data point. A masked figure carries no number: the
// bar is drawn empty with the label "s"; a line has a gap.
func (p point) item(bar bool) any {
	switch {
	case p.masked && bar:
		return map[string]any{"value": 0, "s": 1, "label": map[string]any{"show": true, "formatter": maskSymbol, "position": "insideLeft"}}
	case p.masked:
		return map[string]any{"value": "-", "s": 1}
	case p.missing:
		return "-"
	}
	return round6(p.v)
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

type series struct {
	name   string
	points []point
}

// chartBlock is a chart container of a page.
type chartBlock struct {
	ID     string
	Label  string
	Height int
	Unit   string
	Dec    int
	Option template.JS
}

func noAssets(c *charts.BaseConfiguration) {
	c.ClearPresetJSAssets()
	c.ClearPresetCSSAssets()
}

func optionJSON(obj map[string]any) template.JS {
	delete(obj, "toolbox")
	if t, ok := obj["title"].(opts.Title); ok && t.Title == "" {
		delete(obj, "title")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true) // "<" becomes \u003c: safe inside <script>
	if err := enc.Encode(obj); err != nil {
		panic(err) // only plain data goes in
	}
	return template.JS(bytes.TrimSpace(buf.Bytes()))
}

var palette = opts.Colors{"#1f5fa8", "#e07b39", "#3a9a5b", "#8e5bb5", "#c9a227", "#d1495b", "#5fa8d3"}

// barChart draws categories (horizontal when horiz) with one or more series.
func barChart(cats []string, ss []series, horiz, stacked bool, unit string) map[string]any {
	b := charts.NewBar()
	noAssets(&b.BaseConfiguration)
	b.SetGlobalOptions(
		charts.WithAnimation(false),
		charts.WithColorsOpts(palette),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(len(ss) > 1), Top: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "3%", Right: "4%", Top: gridTop(len(ss)), Bottom: "3%", ContainLabel: opts.Bool(true)}),
	)
	b.SetXAxis(cats)
	for _, s := range ss {
		items := make([]any, len(s.points))
		for i, p := range s.points {
			items[i] = p.item(true)
		}
		b.AddSeries(s.name, nil)
		b.MultiSeries[len(b.MultiSeries)-1].Data = items
		if stacked {
			b.MultiSeries[len(b.MultiSeries)-1].Stack = "total"
		}
	}
	if horiz {
		b.XYReversal()
	}
	b.Validate()
	obj := b.JSON()
	if horiz {
		obj["yAxis"] = []any{map[string]any{"type": "category", "data": cats, "inverse": true, "axisLabel": map[string]any{"width": 160, "overflow": "truncate"}}}
		obj["xAxis"] = []any{map[string]any{"type": "value"}}
	}
	return obj
}

func gridTop(n int) string {
	if n > 1 {
		return "40"
	}
	return "10"
}

// lineChart draws series over periods.
func lineChart(cats []string, ss []series) map[string]any {
	l := charts.NewLine()
	noAssets(&l.BaseConfiguration)
	l.SetGlobalOptions(
		charts.WithAnimation(false),
		charts.WithColorsOpts(palette),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "3%", Right: "4%", Top: "40", Bottom: "3%", ContainLabel: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Scale: opts.Bool(true)}),
	)
	l.SetXAxis(cats)
	for _, s := range ss {
		items := make([]any, len(s.points))
		for i, p := range s.points {
			items[i] = p.item(false)
		}
		l.AddSeries(s.name, nil)
		l.MultiSeries[len(l.MultiSeries)-1].Data = items
	}
	l.Validate()
	return l.JSON()
}

type mapItem struct {
	code, name string
	p          point
	highlight  bool
}

// mapChart colours the regions of a registered map (the départements SVG or
// a commune GeoJSON) by value.
func mapChart(mapName string, items []mapItem) map[string]any {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, it := range items {
		if !it.p.masked && !it.p.missing {
			lo, hi = math.Min(lo, it.p.v), math.Max(hi, it.p.v)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	if hi == lo {
		hi = lo + 1
	}
	m := charts.NewMap()
	noAssets(&m.BaseConfiguration)
	m.SetGlobalOptions(
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithVisualMapOpts(opts.VisualMap{Type: "continuous", Calculable: opts.Bool(false),
			Min: float32(math.Floor(lo)), Max: float32(math.Ceil(hi)), Left: "left", Bottom: "0",
			InRange: &opts.VisualMapInRange{Color: []string{"#f7e9d8", "#f0a35e", "#b4451f"}}}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
	)
	data := make([]any, 0, len(items))
	for _, it := range items {
		d := map[string]any{"name": it.code, "t": it.name}
		switch {
		case it.p.masked:
			d["value"] = "-"
			d["s"] = 1
			d["itemStyle"] = map[string]any{"areaColor": "#cfcfcf"}
			d["label"] = map[string]any{"show": true, "formatter": maskSymbol}
		case it.p.missing:
			d["value"] = "-"
		default:
			d["value"] = round6(it.p.v)
		}
		if it.highlight {
			st, _ := d["itemStyle"].(map[string]any)
			if st == nil {
				st = map[string]any{}
			}
			st["borderColor"] = "#111"
			st["borderWidth"] = 2
			d["itemStyle"] = st
		}
		data = append(data, d)
	}
	m.AddSeries("valeur", nil)
	m.MultiSeries[0].MapType = mapName
	m.MultiSeries[0].Data = data
	m.Validate()
	obj := m.JSON()
	ser := obj["series"]
	// A few map-only settings go-echarts does not model.
	obj["series"] = []any{map[string]any{"type": "map", "map": mapName, "name": "valeur", "data": data,
		"roam": false, "selectedMode": false, "nameProperty": "name", "showLegendSymbol": false, "layoutSize": "96%",
		"itemStyle": map[string]any{"areaColor": "#eeeeee", "borderColor": "#888", "borderWidth": 0.5},
		"emphasis":  map[string]any{"label": map[string]any{"show": false}, "itemStyle": map[string]any{"areaColor": "#ffd54f"}}}}
	_ = ser
	return obj
}

type scatterItem struct {
	name string
	x, y float64
}

func scatterChart(items []scatterItem, xName, yName string) map[string]any {
	s := charts.NewScatter()
	noAssets(&s.BaseConfiguration)
	s.SetGlobalOptions(
		charts.WithAnimation(false),
		charts.WithColorsOpts(palette),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "3%", Right: "12%", Top: "40", Bottom: "30", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: xName, NameLocation: "middle", NameGap: 25, Scale: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: yName, Scale: opts.Bool(true)}),
	)
	data := make([]any, len(items))
	for i, it := range items {
		data[i] = map[string]any{"value": []float64{round6(it.x), round6(it.y)}, "name": it.name, "t": it.name}
	}
	s.AddSeries("territoires", nil)
	s.MultiSeries[0].Data = data
	s.MultiSeries[0].SymbolSize = 12
	s.Validate()
	obj := s.JSON()
	obj["series"] = []any{map[string]any{"type": "scatter", "name": "territoires", "data": data, "symbolSize": 12,
		"label": map[string]any{"show": true, "formatter": "{b}", "position": "right", "fontSize": 11}}}
	obj["yAxis"] = []any{map[string]any{"type": "value", "name": yName, "scale": true,
		"nameTextStyle": map[string]any{"align": "left"}}}
	return obj
}

// smallMultiples draws one small line chart per territory in a grid of
// panels sharing the same scale.
func smallMultiples(cats []string, ss []series, cols int) (map[string]any, int) {
	rows := (len(ss) + cols - 1) / cols
	const panelH = 110
	height := rows*panelH + 20
	l := charts.NewLine()
	noAssets(&l.BaseConfiguration)
	l.SetGlobalOptions(
		charts.WithAnimation(false),
		charts.WithColorsOpts(opts.Colors{"#1f5fa8"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
	)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, p := range s.points {
			if !p.masked && !p.missing {
				lo, hi = math.Min(lo, p.v), math.Max(hi, p.v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	var grids, xs, ys, titles []any
	var out []any
	w := 100.0 / float64(cols)
	for i, s := range ss {
		r, c := i/cols, i%cols
		grids = append(grids, map[string]any{
			"left": pct(float64(c)*w + 3), "width": pct(w - 6),
			"top": r*panelH + 28, "height": panelH - 50})
		xs = append(xs, map[string]any{"type": "category", "data": cats, "gridIndex": i, "axisLabel": map[string]any{"show": false}, "axisTick": map[string]any{"show": false}})
		ys = append(ys, map[string]any{"type": "value", "gridIndex": i, "min": math.Floor(lo), "max": math.Ceil(hi), "splitNumber": 2,
			"axisLabel": map[string]any{"fontSize": 9}})
		titles = append(titles, map[string]any{"text": s.name, "left": pct(float64(c)*w + 3), "top": r*panelH + 8,
			"textStyle": map[string]any{"fontSize": 11, "fontWeight": "normal", "width": 150, "overflow": "truncate"}})
		items := make([]any, len(s.points))
		for j, p := range s.points {
			items[j] = p.item(false)
		}
		out = append(out, map[string]any{"type": "line", "name": s.name, "xAxisIndex": i, "yAxisIndex": i,
			"data": items, "showSymbol": false})
	}
	l.Validate()
	obj := l.JSON()
	obj["grid"], obj["xAxis"], obj["yAxis"], obj["title"], obj["series"] = grids, xs, ys, titles, out
	return obj, height
}

func pct(v float64) string {
	return string(json.Number(formatFloat(v))) + "%"
}

func formatFloat(v float64) string {
	b, _ := json.Marshal(math.Round(v*100) / 100)
	return string(b)
}
