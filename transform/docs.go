package transform

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // Catalog evaluates the catalog model in memory
)

// CatalogEntry is one row of mart.indicator_catalog.
type CatalogEntry struct {
	Indicator, Label, Unit, Description, Formula, Source, Theme, NBasis, PeriodRule string
	Additive                                                                        bool
}

// Catalog evaluates the catalog model (a VALUES list, it reads no table) on
// an in-memory DuckDB, so the dictionary needs no warehouse.
func Catalog() ([]CatalogEntry, error) {
	models, err := Models()
	if err != nil {
		return nil, err
	}
	var q string
	for _, m := range models {
		if m.Name == "mart.indicator_catalog" {
			q = m.SQL
		}
	}
	if q == "" {
		return nil, fmt.Errorf("no mart.indicator_catalog model")
	}
	db, err := sql.Open("duckdb", "?autoinstall_known_extensions=false&autoload_known_extensions=false&threads=1")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), `SELECT indicator, label, unit, description, coalesce(formula, ''),
		coalesce(source, ''), theme, coalesce(n_basis, ''), coalesce(period_rule, ''), additive FROM (`+q+`)`)
	if err != nil {
		return nil, fmt.Errorf("indicator catalog: %w", err)
	}
	defer rows.Close()
	var out []CatalogEntry
	for rows.Next() {
		var e CatalogEntry
		if err := rows.Scan(&e.Indicator, &e.Label, &e.Unit, &e.Description, &e.Formula, &e.Source, &e.Theme, &e.NBasis, &e.PeriodRule, &e.Additive); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

var themeLabels = map[string]string{
	"population":    "Population",
	"offre":         "Offre d'accueil",
	"couverture":    "Taux de couverture",
	"demande":       "Demande et tension",
	"sous_activite": "Sous-activité des assistants maternels",
	"inadequation":  "Inadéquation de l'offre et de la demande",
	"activite_rpe":  "Activité des Relais Petite Enfance",
	"demographie":   "Démographie des assistants maternels",
}

var themeOrder = []string{"population", "offre", "couverture", "demande", "sous_activite", "inadequation", "activite_rpe", "demographie"}

var schemaLabels = map[string]string{
	"staging": "staging : données typées, nettoyées, rattachées aux territoires",
	"int":     "int : faits intermédiaires (AM par mois, communes par mois, agrégats par territoire)",
	"mart":    "mart : indicateurs publiés",
}

type docModel struct {
	Model
	ReadBy []string
}

type docData struct {
	Themes []docTheme
	Groups []docGroup
	Ratio  string
}

type docTheme struct {
	Name       string
	Indicators []CatalogEntry
}

type docGroup struct {
	Title  string
	Models []docModel
}

func buildDocData() (docData, error) {
	models, err := Models()
	if err != nil {
		return docData{}, err
	}
	cat, err := Catalog()
	if err != nil {
		return docData{}, err
	}
	d := docData{Ratio: strings.Replace(fmt.Sprint(DefaultAMUnder3Ratio), ".", ",", 1)}
	byTheme := map[string][]CatalogEntry{}
	for _, e := range cat {
		byTheme[e.Theme] = append(byTheme[e.Theme], e)
	}
	for _, th := range themeOrder {
		if len(byTheme[th]) > 0 {
			d.Themes = append(d.Themes, docTheme{Name: themeLabels[th], Indicators: byTheme[th]})
		}
		delete(byTheme, th)
	}
	var rest []string
	for th := range byTheme {
		rest = append(rest, th)
	}
	sort.Strings(rest)
	for _, th := range rest {
		d.Themes = append(d.Themes, docTheme{Name: th, Indicators: byTheme[th]})
	}
	readBy := map[string][]string{}
	for _, m := range models {
		for _, dep := range append(append([]string{}, m.Depends...), m.Sources...) {
			readBy[dep] = append(readBy[dep], m.Name)
		}
	}
	for _, schema := range []string{"staging", "int", "mart"} {
		g := docGroup{Title: schemaLabels[schema]}
		for _, m := range models {
			if m.Schema == schema {
				g.Models = append(g.Models, docModel{Model: m, ReadBy: readBy[m.Name]})
			}
		}
		d.Groups = append(d.Groups, g)
	}
	return d, nil
}

// WriteDocs writes the French data dictionary, generated from the model
// files, to dir: dictionary.md and dictionary.html (standalone).
func WriteDocs(dir string) error {
	d, err := buildDocData()
	if err != nil {
		return fmt.Errorf("data dictionary: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var md bytes.Buffer
	writeMarkdown(&md, d)
	if err := os.WriteFile(filepath.Join(dir, "dictionary.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	var h bytes.Buffer
	if err := htmlTmpl.Execute(&h, d); err != nil {
		return fmt.Errorf("data dictionary: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "dictionary.html"), h.Bytes(), 0o644)
}

const introFR = `Ce dictionnaire est généré à partir des fichiers de modèles SQL (sql/) : chaque table
y est décrite par l'en-tête de son fichier (description, colonnes, formule, source, tests).

Les indicateurs sont dans **mart.indicator** : une ligne par niveau de territoire (commune,
EPCI, RPE, département, région, France), période (mois, trimestre, année) et indicateur, avec
la valeur, le nombre de personnes sur lequel elle repose (n) et les comparaisons (parent,
rang et quartile parmi les pairs, période précédente, même période un an avant). Les stocks
prennent le dernier mois de la période, les flux la somme des mois ; les ratios sont
calculés sur les sommes, les médianes et comptes distincts sur les lignes individuelles.

Les rapports lisent **mart.published_indicator(k)**, qui masque tout chiffre reposant sur
moins de k personnes, et les chiffres qui permettraient de le recalculer (masquage
complémentaire). Les vues larges **mart.indicator_wide** et **mart.coverage_wide** donnent
les valeurs exactes aux analystes.

Paramètre : **am_under3_ratio** (défaut %s) est la part des places agréées d'un AM en
activité comptée pour les moins de 3 ans quand le registre ne donne pas ses places moins
de 3 ans (758 900 places sur 934 300 en 2018, inférence à partir des totaux publiés).

Exécution : les modèles tournent dans l'ordre de leurs dépendances, chacun dans sa
transaction ; une table n'est remplacée qu'après ses tests de données, et un modèle en
échec laisse la table précédente en place. En incrémental, seules les lignes des périodes
qui finissent à partir du premier mois touché par de nouvelles données sont recalculées.
Pour exécuter le SQL d'un modèle à la main, définir d'abord les variables et macros de
session : SET VARIABLE since = DATE '1900-01-01' ; SET VARIABLE until = DATE '9999-12-01' ;
SET VARIABLE am_under3_ratio = 0.81 ; puis les macros in_window, period_months, period_end,
in_window_period et period_label (transform/run.go, sessionSQL).`

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func writeMarkdown(b *bytes.Buffer, d docData) {
	b.WriteString("# Dictionnaire des données de l'observatoire\n\n")
	fmt.Fprintf(b, introFR+"\n\n", d.Ratio)
	b.WriteString("## Indicateurs\n\n")
	for _, th := range d.Themes {
		fmt.Fprintf(b, "### %s\n\n", th.Name)
		b.WriteString("| indicateur | libellé | unité | définition | formule | n (masquage) | période | source |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|\n")
		for _, e := range th.Indicators {
			fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s | %s | %s |\n", e.Indicator, mdCell(e.Label), e.Unit,
				mdCell(e.Description), mdCell(e.Formula), mdCell(e.NBasis), e.PeriodRule, mdCell(e.Source))
		}
		b.WriteString("\n")
	}
	b.WriteString("## Tables\n\n")
	for _, g := range d.Groups {
		fmt.Fprintf(b, "### %s\n\n", g.Title)
		for _, m := range g.Models {
			fmt.Fprintf(b, "#### %s\n\n", m.Name)
			fmt.Fprintf(b, "%s\n\n", m.Description)
			kind := map[string]string{"table": "table", "view": "vue", "macro": "macro de table"}[m.Kind]
			fmt.Fprintf(b, "- Nature : %s (fichier `sql/%s`)\n", kind, m.Path)
			if m.Grain != "" {
				fmt.Fprintf(b, "- Grain : %s\n", m.Grain)
			}
			if m.Source != "" {
				fmt.Fprintf(b, "- Source : %s\n", m.Source)
			}
			if m.Formula != "" {
				fmt.Fprintf(b, "- Formule : %s\n", m.Formula)
			}
			if m.Incremental != "" {
				fmt.Fprintf(b, "- Incrémental : les lignes où `%s` sont recalculées\n", m.Incremental)
				if m.ByYear {
					b.WriteString("- Reconstruction complète année par année (une requête par année des données)\n")
				}
			} else if m.Kind == "table" {
				b.WriteString("- Reconstruite entièrement à chaque exécution\n")
			}
			lin := append(append([]string{}, m.Depends...), m.Sources...)
			if len(lin) > 0 {
				fmt.Fprintf(b, "- Lit : %s\n", "`"+strings.Join(lin, "`, `")+"`")
			}
			if len(m.ReadBy) > 0 {
				fmt.Fprintf(b, "- Lue par : %s\n", "`"+strings.Join(m.ReadBy, "`, `")+"`")
			}
			b.WriteString("\n")
			if len(m.Columns) > 0 {
				b.WriteString("| colonne | description |\n|---|---|\n")
				for _, c := range m.Columns {
					fmt.Fprintf(b, "| `%s` | %s |\n", mdCell(c.Name), mdCell(c.Description))
				}
				b.WriteString("\n")
			}
			if len(m.Tests) > 0 {
				b.WriteString("Tests de données :\n\n")
				for _, t := range m.Tests {
					fmt.Fprintf(b, "- `%s` (%s)\n", t.Name, map[string]string{"error": "bloquant", "warn": "avertissement"}[t.Severity])
				}
				b.WriteString("\n")
			}
		}
	}
}

var htmlTmpl = template.Must(template.New("dict").Funcs(template.FuncMap{
	"join": func(a, b []string) string { return strings.Join(append(append([]string{}, a...), b...), ", ") },
	"intro": func(ratio string) template.HTML {
		var out []string
		for _, p := range strings.Split(fmt.Sprintf(introFR, ratio), "\n\n") {
			p = template.HTMLEscapeString(p)
			for strings.Count(p, "**") >= 2 {
				p = strings.Replace(p, "**", "<strong>", 1)
				p = strings.Replace(p, "**", "</strong>", 1)
			}
			out = append(out, "<p>"+p+"</p>")
		}
		return template.HTML(strings.Join(out, "\n"))
	},
	"kind": func(k string) string {
		return map[string]string{"table": "table", "view": "vue", "macro": "macro de table"}[k]
	},
	"severity": func(s string) string { return map[string]string{"error": "bloquant", "warn": "avertissement"}[s] },
	"anchor":   func(s string) string { return strings.ReplaceAll(s, ".", "-") },
}).Parse(`<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dictionnaire des données de l'observatoire</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 75rem; padding: 0 1rem; color: #222; line-height: 1.45; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f3f7; }
code { background: #f4f4f4; padding: 0 .2rem; }
section.model { border-top: 1px solid #ddd; padding-top: .5rem; }
nav ul { columns: 3; }
</style>
</head>
<body>
<h1>Dictionnaire des données de l'observatoire</h1>
{{intro .Ratio}}
<nav><ul>
{{range .Groups}}{{range .Models}}<li><a href="#{{anchor .Name}}">{{.Name}}</a></li>{{end}}{{end}}
</ul></nav>
<h2>Indicateurs</h2>
{{range .Themes}}
<h3>{{.Name}}</h3>
<table>
<tr><th>indicateur</th><th>libellé</th><th>unité</th><th>définition</th><th>formule</th><th>n (masquage)</th><th>période</th><th>source</th></tr>
{{range .Indicators}}<tr><td><code>{{.Indicator}}</code></td><td>{{.Label}}</td><td>{{.Unit}}</td><td>{{.Description}}</td><td>{{.Formula}}</td><td>{{.NBasis}}</td><td>{{.PeriodRule}}</td><td>{{.Source}}</td></tr>
{{end}}</table>
{{end}}
<h2>Tables</h2>
{{range .Groups}}
<h3>{{.Title}}</h3>
{{range .Models}}
<section class="model" id="{{anchor .Name}}">
<h4>{{.Name}}</h4>
<p>{{.Description}}</p>
<ul>
<li>Nature : {{kind .Kind}} (fichier <code>sql/{{.Path}}</code>)</li>
{{if .Grain}}<li>Grain : {{.Grain}}</li>{{end}}
{{if .Source}}<li>Source : {{.Source}}</li>{{end}}
{{if .Formula}}<li>Formule : {{.Formula}}</li>{{end}}
{{if .Incremental}}<li>Incrémental : les lignes où <code>{{.Incremental}}</code> sont recalculées</li>{{end}}
{{if .ByYear}}<li>Reconstruction complète année par année (une requête par année des données)</li>{{end}}
{{if or .Depends .Sources}}<li>Lit : {{join .Depends .Sources}}</li>{{end}}
{{if .ReadBy}}<li>Lue par : {{join .ReadBy nil}}</li>{{end}}
</ul>
{{if .Columns}}<table><tr><th>colonne</th><th>description</th></tr>
{{range .Columns}}<tr><td><code>{{.Name}}</code></td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}
{{if .Tests}}<p>Tests de données :</p><ul>
{{range .Tests}}<li><code>{{.Name}}</code> ({{severity .Severity}})</li>
{{end}}</ul>{{end}}
</section>
{{end}}
{{end}}
</body>
</html>
`))
