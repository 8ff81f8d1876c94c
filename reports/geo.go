package reports

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// --- Départements map: the embedded SVG plus overseas insets.

var viewBoxRe = regexp.MustCompile(`viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"`)

var overseas = []struct{ code, name string }{
	{"971", "Guadeloupe"}, {"972", "Martinique"}, {"973", "Guyane"}, {"974", "La Réunion"}, {"976", "Mayotte"},
}

// departementsSVG returns the SVG registered as the map "fr-departements":
// the mainland and Corsica from the embedded file, and a row of labelled
// boxes under it for the overseas départements (971 to 976), each box
// named with its code so echarts colours it like any other département.
func departementsSVG(src []byte) (string, error) {
	s := string(src)
	m := viewBoxRe.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("reports: départements SVG has no viewBox")
	}
	x, _ := strconv.ParseFloat(m[1], 64)
	y, _ := strconv.ParseFloat(m[2], 64)
	w, _ := strconv.ParseFloat(m[3], 64)
	h, _ := strconv.ParseFloat(m[4], 64)
	const boxH, gap, labelH = 36.0, 10.0, 20.0
	n := float64(len(overseas))
	boxW := (w - gap*(n+1)) / n
	top := y + h + 8
	var b strings.Builder
	for i, o := range overseas {
		bx := x + gap + float64(i)*(boxW+gap)
		fmt.Fprintf(&b, `<rect name="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" ry="6"/>`, o.code, bx, top, boxW, boxH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="14" fill="#333">%s</text>`, bx+boxW/2, top+boxH+labelH-2, o.name)
	}
	newH := h + 8 + boxH + labelH + 6
	s = strings.Replace(s, m[0], fmt.Sprintf(`viewBox="%s %s %s %.1f"`, m[1], m[2], m[3], newH), 1)
	i := strings.LastIndex(s, "</svg>")
	if i < 0 {
		return "", fmt.Errorf("reports: départements SVG is not closed")
	}
	// Drop the XML comment (licence header is kept in assets/LICENSES).
	s = s[:i] + b.String() + s[i:]
	if j := strings.Index(s, "<svg"); j > 0 {
		s = s[j:]
	}
	return s, nil
}

// --- Commune map from a user GeoJSON.

type communeGeo struct {
	features map[string]json.RawMessage // code -> feature with properties {name: code}
	names    map[string]string
	// memo of areas: territory key -> (asset key, codes)
	areas map[*territory]geoArea
}

type geoArea struct {
	key   string
	codes []string
	size  int // bytes of its features
}

// maxStandaloneGeo bounds the commune map inlined in a standalone report, to
// keep the file near 1.5 MB with echarts.
const maxStandaloneGeo = 300_000

var codeProps = []string{"code", "INSEE_COM", "insee_com", "code_insee", "CODE_INSEE", "insee", "INSEE", "codgeo", "CODGEO", "com", "COM", "code_commune"}
var nameProps = []string{"nom", "NOM", "NOM_COM", "nom_com", "name", "NAME", "libgeo", "LIBGEO", "nom_commune"}

// loadCommuneGeo reads a FeatureCollection of communes. Coordinates are
// rounded to 5 decimals (about a metre) to keep pages small.
func loadCommuneGeo(path string) (*communeGeo, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reports: commune GeoJSON: %w", err)
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Type       string          `json:"type"`
			Properties map[string]any  `json:"properties"`
			Geometry   json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(raw, &fc); err != nil {
		return nil, fmt.Errorf("reports: commune GeoJSON %s: %w", path, err)
	}
	g := &communeGeo{features: map[string]json.RawMessage{}, names: map[string]string{}}
	for _, f := range fc.Features {
		code := ""
		for _, k := range codeProps {
			if v, ok := f.Properties[k]; ok {
				code = strings.TrimSpace(fmt.Sprint(v))
				break
			}
		}
		if code == "" || len(f.Geometry) == 0 || string(f.Geometry) == "null" {
			continue
		}
		for _, k := range nameProps {
			if v, ok := f.Properties[k].(string); ok {
				g.names[code] = v
				break
			}
		}
		var geom any
		if err := json.Unmarshal(f.Geometry, &geom); err != nil {
			return nil, fmt.Errorf("reports: commune GeoJSON %s: feature %s: %w", path, code, err)
		}
		geom = roundCoords(geom)
		feat, err := json.Marshal(map[string]any{"type": "Feature", "properties": map[string]string{"name": code}, "geometry": geom})
		if err != nil {
			return nil, err
		}
		g.features[code] = feat
	}
	if len(g.features) == 0 {
		return nil, fmt.Errorf("reports: commune GeoJSON %s: no feature with a commune code (properties %s)", path, strings.Join(codeProps, ", "))
	}
	return g, nil
}

func roundCoords(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = roundCoords(x[i])
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = roundCoords(e)
		}
		return x
	case float64:
		return math.Round(x*1e5) / 1e5
	}
	return v
}

// maxGeoFeatures bounds the communes drawn on one map.
const maxGeoFeatures = 1500

// prepare computes, for every territory with communes, the map key and the
// codes found in the GeoJSON.
func (g *communeGeo) prepare(w *warehouse) {
	g.areas = map[*territory]geoArea{}
	for _, t := range w.terrs {
		if t.Level == "france" || t.Level == "region" || t.Level == "commune" {
			continue
		}
		var codes []string
		for _, c := range t.communes {
			if _, ok := g.features[c]; ok {
				codes = append(codes, c)
			}
		}
		if len(codes) == 0 || len(codes) > maxGeoFeatures {
			continue
		}
		sort.Strings(codes)
		size := 0
		for _, c := range codes {
			size += len(g.features[c])
		}
		g.areas[t] = geoArea{key: "communes-" + t.Level + "-" + safeName(t.Code), codes: codes, size: size}
	}
}

func (g *communeGeo) areaFor(t *territory) (string, []string) {
	a, ok := g.areas[t]
	if !ok {
		return "", nil
	}
	return a.key, a.codes
}

// script returns the JavaScript that registers the map of area key.
func (g *communeGeo) script(key string, codes []string) []byte {
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, c := range codes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(g.features[c])
	}
	b.WriteString("]}")
	k, _ := json.Marshal(key)
	return []byte("(window.RPE_MAPS=window.RPE_MAPS||{})[" + string(k) + "]=" + b.String() + ";\n")
}
