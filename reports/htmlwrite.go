package reports

import (
	"bytes"
	"html/template"
	"strconv"
	"strings"
)

// The body of a page (sections, tables, charts) is written directly: the
// html/template engine costs a reflective call per value, and a report has
// thousands of table cells. Every text goes through esc; chart options are
// JSON with <, > and & escaped (optionJSON).

var htmlEscaper = strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;")

func esc(b *bytes.Buffer, s string) {
	if strings.IndexAny(s, `&'<>"`) < 0 {
		b.WriteString(s)
		return
	}
	htmlEscaper.WriteString(b, s)
}

func (pm *pageModel) mainHTML(buf *bytes.Buffer) template.HTML {
	buf.Reset()
	legend := "s : secret statistique (moins de " + strconv.Itoa(pm.MinCount) + " personnes)"
	for _, s := range pm.Sections {
		if s.Missing != "" {
			buf.WriteString(`<p class="missing" id="`)
			esc(buf, s.ID)
			buf.WriteString(`">`)
			esc(buf, s.Missing)
			buf.WriteString("</p>\n")
			continue
		}
		buf.WriteString(`<section id="`)
		esc(buf, s.ID)
		buf.WriteString("\">\n<h2>")
		esc(buf, s.Title)
		buf.WriteString("</h2>\n")
		for _, it := range s.Items {
			if len(it.Sentences) > 0 {
				buf.WriteString(`<ul class="sentences">`)
				for _, x := range it.Sentences {
					buf.WriteString("<li>")
					esc(buf, x)
					buf.WriteString("</li>")
				}
				buf.WriteString("</ul>\n")
			}
			if it.Text != "" {
				buf.WriteString("<p>")
				esc(buf, it.Text)
				buf.WriteString("</p>\n")
			}
			if c := it.Chart; c != nil {
				buf.WriteString(`<figure class="chart-fig"><div class="chart" id="`)
				esc(buf, c.ID)
				buf.WriteString(`" role="img" aria-label="`)
				esc(buf, c.Label)
				buf.WriteString(`" data-unit="`)
				esc(buf, c.Unit)
				buf.WriteString(`" data-dec="`)
				buf.WriteString(strconv.Itoa(c.Dec))
				buf.WriteString(`" style="height: `)
				buf.WriteString(strconv.Itoa(c.Height))
				buf.WriteString(`px"></div><figcaption>`)
				esc(buf, c.Label)
				buf.WriteString("</figcaption></figure>\n<script type=\"application/json\" id=\"")
				esc(buf, c.ID)
				buf.WriteString(`-opt">`)
				buf.WriteString(string(c.Option)) // JSON, HTML-escaped by optionJSON
				buf.WriteString("</script>\n")
			}
			if tb := it.Table; tb != nil {
				writeTable(buf, tb, legend)
			}
		}
		buf.WriteString("</section>\n")
	}
	return template.HTML(buf.String())
}

func writeTable(buf *bytes.Buffer, tb *table, legend string) {
	buf.WriteString(`<div class="table-wrap"><table`)
	if tb.Sortable {
		buf.WriteString(` class="sortable"`)
	}
	buf.WriteString(">\n<caption>")
	esc(buf, tb.Caption)
	buf.WriteString("</caption>\n<thead><tr>")
	for i, h := range tb.Head {
		buf.WriteString(`<th scope="col"`)
		if tb.Sortable {
			buf.WriteString(` data-col="`)
			buf.WriteString(strconv.Itoa(i))
			buf.WriteString(`" tabindex="0" aria-sort="none"`)
		}
		buf.WriteString(">")
		esc(buf, h)
		buf.WriteString("</th>")
	}
	buf.WriteString("</tr></thead>\n<tbody>\n")
	for _, row := range tb.Rows {
		buf.WriteString("<tr>")
		for i, c := range row {
			if i == 0 {
				buf.WriteString(`<th scope="row" data-v="`)
			} else {
				buf.WriteString(`<td class="`)
				if c.Num {
					buf.WriteString("num")
				}
				if c.Masked {
					buf.WriteString(" s")
				}
				buf.WriteString(`" data-v="`)
			}
			esc(buf, c.Sort)
			buf.WriteString(`">`)
			if c.Href != "" {
				buf.WriteString(`<a href="`)
				esc(buf, c.Href)
				buf.WriteString(`">`)
				esc(buf, c.Text)
				buf.WriteString("</a>")
			} else {
				esc(buf, c.Text)
			}
			if i == 0 {
				buf.WriteString("</th>")
			} else {
				buf.WriteString("</td>")
			}
		}
		buf.WriteString("</tr>\n")
	}
	buf.WriteString("</tbody></table>")
	if tb.Masked {
		buf.WriteString(`<p class="legend">`)
		esc(buf, legend)
		buf.WriteString("</p>")
	}
	buf.WriteString("</div>\n")
}
