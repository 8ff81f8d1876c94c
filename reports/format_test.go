package reports

import (
	"testing"
	"time"
)

func TestFrenchFormats(t *testing.T) {
	const nn = "\u202f"
	cases := []struct {
		name, got, want string
	}{
		{"integer", frNumber(1234, 0), "1" + nn + "234"},
		{"decimal", frNumber(1234.5, 1), "1" + nn + "234,5"},
		{"millions", frNumber(2234567.25, 2), "2" + nn + "234" + nn + "567,25"},
		{"small", frNumber(12.345, 1), "12,3"},
		{"zero", frNumber(0, 1), "0,0"},
		{"negative", frNumber(-4.1, 1), "\u22124,1"},
		{"negative rounds to zero", frNumber(-0.04, 1), "0,0"},
		{"hundreds", frNumber(999, 0), "999"},
		{"percent", frPercent(58.3, 1), "58,3" + nn + "%"},
		{"signed plus", frSigned(1.26, 1), "+1,3"},
		{"signed minus", frSigned(-1234, 0), "\u22121" + nn + "234"},
		{"signed zero", frSigned(-0.01, 1), "0,0"},
		{"change points", fmtChange(-4.1, "rate"), "\u22124,1" + nn + "pts"},
		{"change point", fmtChange(1.2, "percent"), "+1,2" + nn + "pt"},
		{"change count", fmtChange(35, "count"), "+35"},
		{"value percent", fmtValue(16.94, "percent"), "16,9" + nn + "%"},
		{"value count", fmtValue(39600, "count"), "39" + nn + "600"},
		{"value rate", fmtValue(53.66, "rate"), "53,7"},
		{"month", frPeriod("2026-03"), "mars 2026"},
		{"month accent", frPeriod("2025-02"), "février 2025"},
		{"month août", frPeriod("2025-08"), "août 2025"},
		{"quarter 1", frPeriod("2026-T1"), "1er trimestre 2026"},
		{"quarter 4", frPeriod("2025-T4"), "4e trimestre 2025"},
		{"year", frPeriod("2025"), "2025"},
		{"date", frDate(time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)), "15 janvier 2026"},
		{"date first", frDate(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), "1er décembre 2026"},
		{"in quarter", frPeriodIn(&period{Kind: "quarter", Code: "2026-T1"}), "au 1er trimestre 2026"},
		{"in month", frPeriodIn(&period{Kind: "month", Code: "2026-03"}), "en mars 2026"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestPeriodOverlaps(t *testing.T) {
	q := &period{Kind: "quarter", Code: "2025-T4", Start: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)}
	for s, want := range map[string]bool{"2025": true, "2025-T4": true, "2025-11": true, "2025-09": false,
		"2025-T3": false, "2025-12-31": true, "2026-01-01": false, "xx": false} {
		if got := periodOverlaps(s, q); got != want {
			t.Errorf("periodOverlaps(%q, 2025-T4) = %v, want %v", s, got, want)
		}
	}
}

func TestSafeName(t *testing.T) {
	if got := safeName("243500139"); got != "243500139" {
		t.Errorf("safeName kept code = %q", got)
	}
	a, b := safeName("RPE/1"), safeName("RPE?1")
	if a == b || a == "RPE/1" {
		t.Errorf("safeName(RPE/1) = %q, safeName(RPE?1) = %q: want distinct file-safe names", a, b)
	}
}
