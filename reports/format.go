package reports

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// French typography: thousands are separated by a narrow no-break space
// (U+202F), the decimal mark is a comma, and "%" is preceded by the same
// narrow no-break space.
const (
	nnbsp = "\u202f"
	minus = "\u2212"
	// maskSymbol is what a figure under statistical confidentiality shows.
	maskSymbol = "s"
)

// frNumber formats v with dec decimals the French way: 1 234,5.
func frNumber(v float64, dec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n.d."
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', dec, 64)
	neg := v < 0 && strings.Trim(s, "0.") != ""
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteString(minus)
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(nnbsp)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte(',')
		b.WriteString(frac)
	}
	return b.String()
}

// frSigned formats a change with an explicit sign: +1,2 or −0,8.
func frSigned(v float64, dec int) string {
	s := frNumber(v, dec)
	if strings.Trim(strconv.FormatFloat(math.Abs(v), 'f', dec, 64), "0.") == "" {
		return strings.TrimPrefix(s, minus)
	}
	if v > 0 {
		return "+" + s
	}
	return s
}

// frPercent formats a percentage: 58,3 %.
func frPercent(v float64, dec int) string { return frNumber(v, dec) + nnbsp + "%" }

var frMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet",
	"août", "septembre", "octobre", "novembre", "décembre"}

// frMonth returns "mars 2026".
func frMonth(t time.Time) string { return frMonths[t.Month()-1] + " " + strconv.Itoa(t.Year()) }

// frDate returns "5 mars 2026".
func frDate(t time.Time) string {
	d := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		d = "1er"
	}
	return d + " " + frMonth(t)
}

// frPeriod names a period: "2025", "1er trimestre 2026", "mars 2026".
// It accepts the warehouse spellings 2025, 2025-T1, 2025-03.
func frPeriod(p string) string {
	if len(p) == 7 && p[4] == '-' && p[5] == 'T' {
		q := p[6:]
		ord := q + "e"
		if q == "1" {
			ord = "1er"
		}
		return ord + " trimestre " + p[:4]
	}
	if len(p) == 7 && p[4] == '-' {
		if t, err := time.Parse("2006-01", p); err == nil {
			return frMonth(t)
		}
	}
	return p
}

// frKind names a period kind in French.
func frKind(kind string) string {
	switch kind {
	case "month":
		return "mois"
	case "quarter":
		return "trimestre"
	case "year":
		return "année"
	}
	return kind
}

// decimals returns how many decimals a unit is shown with.
func decimals(unit string) int {
	switch unit {
	case "count":
		return 0
	default:
		return 1
	}
}

// fmtValue formats a value in its unit, without the unit word except for %.
func fmtValue(v float64, unit string) string {
	switch unit {
	case "percent":
		return frPercent(v, 1)
	}
	return frNumber(v, decimals(unit))
}

// fmtChange formats a difference in the indicator's unit: rates and
// percentages change in points.
func fmtChange(d float64, unit string) string {
	switch unit {
	case "percent", "rate":
		dec := 1
		s := frSigned(d, dec)
		if math.Abs(d) >= 2 {
			return s + nnbsp + "pts"
		}
		return s + nnbsp + "pt"
	}
	return frSigned(d, decimals(unit))
}

// unitSuffix is the word shown after a value in sentences.
func plural(n float64, one, many string) string {
	if math.Abs(n) < 2 {
		return one
	}
	return many
}
