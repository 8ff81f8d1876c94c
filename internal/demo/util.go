package demo

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
)

// day is a calendar date as a number of days since 1970-01-01 (proleptic
// Gregorian). 0 is used as "no date": every date the generator writes is
// after 1970.
type day int32

// mkDay returns the day of y-m-d (m 1-12, d 1-31).
func mkDay(y, m, d int) day {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return day(era*146097 + doe - 719468)
}

// ymd returns the year, month (1-12) and day of month of d.
func (d day) ymd() (y, m, dd int) {
	z := int(d) + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

// weekday returns 0 for Sunday ... 6 for Saturday.
func (d day) weekday() int { return (int(d)%7 + 11) % 7 }

// month is a month index: year*12 + month-1.
type month int

func mkMonth(y, m int) month   { return month(y*12 + m - 1) }
func (m month) year() int      { return int(m) / 12 }
func (m month) num() int       { return int(m)%12 + 1 }
func (m month) first() day     { return mkDay(m.year(), m.num(), 1) }
func (m month) last() day      { return (m + 1).first() - 1 }
func (m month) days() int      { return int((m + 1).first() - m.first()) }
func (m month) String() string { return string(appendMonth(nil, m)) }
func monthOf(d day) month      { y, mm, _ := d.ymd(); return mkMonth(y, mm) }
func appendMonth(b []byte, m month) []byte {
	b = strconv.AppendInt(b, int64(m.year()), 10)
	b = append(b, '-')
	return append2(b, m.num())
}

// parseMonth reads "YYYY-MM".
func parseMonth(s string) (month, bool) {
	if len(s) != 7 || s[4] != '-' {
		return 0, false
	}
	y, err1 := strconv.Atoi(s[:4])
	m, err2 := strconv.Atoi(s[5:])
	if err1 != nil || err2 != nil || m < 1 || m > 12 || y < 1990 || y > 2200 {
		return 0, false
	}
	return mkMonth(y, m), true
}

func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10%10), byte('0'+v%10))
}

// appendDate writes d as dd/mm/yyyy.
func appendDate(b []byte, d day) []byte {
	y, m, dd := d.ymd()
	b = append2(b, dd)
	b = append(b, '/')
	b = append2(b, m)
	b = append(b, '/')
	return strconv.AppendInt(b, int64(y), 10)
}

// appendDec1 writes v with one decimal and a decimal comma ("123,4").
func appendDec1(b []byte, v float64) []byte {
	t := int64(math.Round(v * 10))
	if t < 0 {
		b = append(b, '-')
		t = -t
	}
	b = strconv.AppendInt(b, t/10, 10)
	b = append(b, ',')
	return append(b, byte('0'+t%10))
}

// streamSeed derives a stable 64-bit value from a département code and a
// stream name, so that each département and each concern (territory, AMs,
// activity, requests...) draws from its own generator: adding a département
// or a draw in one stream never shifts another.
func streamSeed(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func newRand(seed int64, parts ...string) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), streamSeed(parts...)))
}

// poisson draws a Poisson variable (Knuth below 30, normal approximation
// above).
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda < 30 {
		l := math.Exp(-lambda)
		k, p := 0, 1.0
		for {
			p *= r.Float64()
			if p <= l {
				return k
			}
			k++
		}
	}
	v := math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64())
	if v < 0 {
		return 0
	}
	return int(v)
}

// stochRound rounds x to floor(x) or floor(x)+1 with the probability that
// keeps the expectation.
func stochRound(r *rand.Rand, x float64) int {
	if x <= 0 {
		return 0
	}
	f := math.Floor(x)
	if r.Float64() < x-f {
		return int(f) + 1
	}
	return int(f)
}

func lognormal(r *rand.Rand, sigma float64) float64 {
	return math.Exp(sigma*r.NormFloat64() - sigma*sigma/2)
}

func clamp(x, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, x))
}

// pick returns an index drawn from cumulative weights cum (non-decreasing,
// last > 0).
func pick(r *rand.Rand, cum []float64) int {
	u := r.Float64() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] > u {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// choose returns an index drawn from plain weights.
func choose(r *rand.Rand, w []float64) int {
	t := 0.0
	for _, x := range w {
		t += x
	}
	u := r.Float64() * t
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// dept3 pads a département code to three characters as approval numbers and
// RPE identifiers write it: "35" -> "035", "2A" -> "02A", "971" -> "971".
func dept3(d string) string {
	if len(d) >= 3 {
		return d
	}
	return "0" + d
}
