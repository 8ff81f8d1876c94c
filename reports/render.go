package reports

import (
	"bytes"
	"crypto/sha1"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rpe-observatoire/observatoire/data"
)

//go:embed assets/report.css
var reportCSS string

//go:embed assets/report.js
var reportJS string

//go:embed assets/page.html
var pageTemplate string

//go:embed assets/index.html
var indexTemplate string

// --- Paths and links.

// safeName keeps a code usable as a file name; other codes get a hash so two
// codes never share a file.
func safeName(code string) string {
	ok := code != ""
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			ok = false
			break
		}
	}
	if ok {
		return code
	}
	var b strings.Builder
	for _, r := range code {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	h := sha1.Sum([]byte(code))
	return b.String() + "-" + hex.EncodeToString(h[:4])
}

func pagePath(t *territory, p *period) string {
	return safeName(p.Code) + "/" + t.Level + "/" + safeName(t.Code) + ".html"
}

func comparePath(t *territory, p *period) string {
	return safeName(p.Code) + "/comparaison/" + t.Level + "-" + safeName(t.Code) + ".html"
}

func standalonePath(t *territory, p *period) string {
	return "standalone/" + t.Level + "-" + safeName(t.Code) + "-" + safeName(p.Code) + ".html"
}

func periodIndexPath(p *period) string { return safeName(p.Code) + "/index.html" }

// linker makes relative links from a page; a standalone report has none.
type linker struct {
	root       string
	standalone bool
}

func siteLinks(depth int) linker { return linker{root: strings.Repeat("../", depth)} }

func (l linker) page(t *territory, p *period) string {
	if l.standalone {
		return ""
	}
	return l.root + pagePath(t, p)
}

func (l linker) compare(t *territory, p *period) string {
	if l.standalone {
		return ""
	}
	return l.root + comparePath(t, p)
}

func (l linker) index() string {
	if l.standalone {
		return ""
	}
	return l.root + "index.html"
}

func (l linker) periodIndex(p *period) string {
	if l.standalone {
		return ""
	}
	return l.root + periodIndexPath(p)
}

// --- Assets.

type assets struct {
	echarts []byte
	mapJS   []byte // registers the départements SVG
}

func newAssets() (*assets, error) {
	e, err := data.ReadFile("assets/echarts.min.js")
	if err != nil {
		return nil, err
	}
	svg, err := data.ReadFile("assets/france-departements.svg")
	if err != nil {
		return nil, err
	}
	s, err := departementsSVG(svg)
	if err != nil {
		return nil, err
	}
	js, _ := json.Marshal(s) // escapes <, >, &: safe in <script>
	m := []byte("(window.RPE_MAPS=window.RPE_MAPS||{})[\"fr-departements\"]=" + string(js) + ";\n")
	return &assets{echarts: bytes.ReplaceAll(e, []byte("</script"), []byte(`<\/script`)), mapJS: m}, nil
}

func (a *assets) writeSite(dir string) (int64, error) {
	ad := filepath.Join(dir, "assets")
	if err := os.MkdirAll(ad, 0o755); err != nil {
		return 0, err
	}
	var n int64
	lic, _ := data.ReadFile("assets/LICENSES.md")
	for name, b := range map[string][]byte{
		"echarts.min.js":  a.echarts,
		"departements.js": a.mapJS,
		"report.css":      []byte(reportCSS),
		"report.js":       []byte(reportJS),
		"LICENSES.md":     lic,
	} {
		if err := os.WriteFile(filepath.Join(ad, name), b, 0o644); err != nil {
			return n, err
		}
		n += int64(len(b))
	}
	return n, nil
}

// --- Rendering.

var funcs = template.FuncMap{
	"legend": func(n int) string {
		return "s : secret statistique (moins de " + strconv.Itoa(n) + " personnes)"
	},
}

var (
	pageTpl  = template.Must(template.New("page").Funcs(funcs).Parse(pageTemplate))
	indexTpl = template.Must(template.New("index").Funcs(funcs).Parse(indexTemplate))
)

type pageView struct {
	P       *pageModel
	Inline  bool
	Root    string
	CSS     template.CSS
	Echarts template.JS
	MapJS   template.JS
	GeoJS   template.JS
	GeoSrc  string
	AppJS   template.JS
	HasMap  bool
	Main    template.HTML
}

type renderer struct {
	a    *assets
	buf  bytes.Buffer
	main bytes.Buffer
}

func newRenderer(a *assets) *renderer { return &renderer{a: a} }

func (r *renderer) writePage(path string, pm *pageModel, inline bool, root string, geo []byte) (int64, error) {
	v := pageView{P: pm, Inline: inline, Root: root, HasMap: true}
	if inline {
		v.CSS = template.CSS(reportCSS)
		v.Echarts = template.JS(r.a.echarts)
		v.MapJS = template.JS(r.a.mapJS)
		v.AppJS = template.JS(reportJS)
		v.GeoJS = template.JS(geo)
	} else if pm.geoKey != "" {
		v.GeoSrc = root + "assets/geo/" + pm.geoKey + ".js"
	}
	v.Main = pm.mainHTML(&r.main)
	r.buf.Reset()
	if err := pageTpl.Execute(&r.buf, v); err != nil {
		return 0, err
	}
	if err := os.WriteFile(path, r.buf.Bytes(), 0o644); err != nil {
		return 0, err
	}
	return int64(r.buf.Len()), nil
}

// --- Index pages.

type indexGroup struct {
	Title string
	Rows  []indexRow
}

type indexRow struct {
	Name    string
	Code    string
	Href    string
	Compare string
	Alone   string
	Sub     string
}

type indexView struct {
	Title     string
	Subtitle  string
	Root      string
	Periods   []link
	Groups    []indexGroup
	Generated string
	MinCount  int
}

func (b *builder) writeIndexes(r *renderer, dir string, jobs []job) (int64, int, error) {
	var total int64
	pages := 0
	byPeriod := map[*period][]job{}
	type tp struct {
		t *territory
		p *period
	}
	standalone := map[tp]bool{}
	for _, j := range jobs {
		byPeriod[j.p] = append(byPeriod[j.p], j)
		if j.alone {
			standalone[tp{j.t, j.p}] = true
		}
	}
	var sel []*period
	for _, p := range b.w.periods {
		if p.selected && len(byPeriod[p]) > 0 {
			sel = append(sel, p)
		}
	}
	periodLinks := func(root string, cur *period) []link {
		var out []link
		for _, p := range sel {
			out = append(out, link{Text: frPeriod(p.Code), Href: root + periodIndexPath(p), Current: p == cur})
		}
		return out
	}
	write := func(path string, v indexView) error {
		r.buf.Reset()
		if err := indexTpl.Execute(&r.buf, v); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		total += int64(r.buf.Len())
		pages++
		return os.WriteFile(path, r.buf.Bytes(), 0o644)
	}
	for _, p := range sel {
		compare := map[*territory]bool{}
		alone := map[*territory]bool{}
		var ts []*territory
		for _, j := range byPeriod[p] {
			if j.compare {
				compare[j.t] = true
				continue
			}
			ts = append(ts, j.t)
			if j.alone {
				alone[j.t] = true
			}
		}
		sortTerritories(ts)
		var groups []indexGroup
		for _, t := range ts {
			if len(groups) == 0 || groups[len(groups)-1].Title != levelPlural[t.Level] {
				groups = append(groups, indexGroup{Title: levelPlural[t.Level]})
			}
			row := indexRow{Name: t.Name, Code: t.Code, Href: "../" + pagePath(t, p)}
			if t.parent != nil {
				row.Sub = t.parent.Name
			}
			if compare[t] {
				row.Compare = "../" + comparePath(t, p)
			}
			if alone[t] {
				row.Alone = "../" + standalonePath(t, p)
			}
			g := &groups[len(groups)-1]
			g.Rows = append(g.Rows, row)
		}
		v := indexView{Title: "Rapports – " + frPeriod(p.Code), Subtitle: frKind(p.Kind), Root: "../",
			Periods: periodLinks("../", p), Groups: groups, Generated: frDate(b.opt.Now), MinCount: b.opt.MinCount}
		if err := write(filepath.Join(dir, periodIndexPath(p)), v); err != nil {
			return 0, 0, err
		}
	}
	// Home page: the periods, and the main territories with every period.
	var groups []indexGroup
	var top []*territory
	for _, t := range b.w.terrs {
		if t.page && (t.Level == "france" || t.Level == "region" || t.Level == "departement") {
			top = append(top, t)
		}
	}
	sortTerritories(top)
	for _, t := range top {
		if len(groups) == 0 || groups[len(groups)-1].Title != levelPlural[t.Level] {
			groups = append(groups, indexGroup{Title: levelPlural[t.Level]})
		}
		row := indexRow{Name: t.Name, Code: t.Code}
		var latest *period
		for _, p := range sel {
			if b.w.block(t, p) != nil && (latest == nil || p.Kind == "year" && (latest.Kind != "year" || p.Start.After(latest.Start))) {
				latest = p
			}
		}
		if latest == nil {
			continue
		}
		row.Href = pagePath(t, latest)
		row.Sub = frPeriod(latest.Code)
		if b.hasComparison(t, latest) {
			row.Compare = comparePath(t, latest)
		}
		if standalone[tp{t, latest}] {
			row.Alone = standalonePath(t, latest)
		}
		g := &groups[len(groups)-1]
		g.Rows = append(g.Rows, row)
	}
	v := indexView{Title: "Observatoire des relais petite enfance", Subtitle: "Diagnostics territoriaux de l'accueil du jeune enfant",
		Root: "", Periods: periodLinks("", nil), Groups: groups, Generated: frDate(b.opt.Now), MinCount: b.opt.MinCount}
	if err := write(filepath.Join(dir, "index.html"), v); err != nil {
		return 0, 0, err
	}
	return total, pages, nil
}
