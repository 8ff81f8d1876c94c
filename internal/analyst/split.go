package analyst

import (
	"strings"
	"unicode"
)

// Split cuts SQL text into statements at the semicolons that lie outside
// string literals, quoted identifiers, dollar-quoted strings and comments. It
// returns the complete statements (without their semicolon, trimmed, blank or
// comment-only ones dropped) and the text after the last semicolon, which is
// an unfinished statement for the shell or the last statement of a file.
func Split(text string) (stmts []string, rest string) {
	start := 0
	sc := scanner{s: text}
	for {
		i, ok := sc.nextSemicolon()
		if !ok {
			break
		}
		if st := strings.TrimSpace(text[start:i]); !Blank(st) {
			stmts = append(stmts, st)
		}
		start = i + 1
	}
	return stmts, text[start:]
}

// Statements is Split for a whole script: the unterminated tail counts as a
// last statement.
func Statements(text string) []string {
	stmts, rest := Split(text)
	if rest = strings.TrimSpace(rest); !Blank(rest) {
		stmts = append(stmts, rest)
	}
	return stmts
}

// Blank reports whether text holds only white space and comments.
func Blank(text string) bool {
	return strings.TrimSpace(StripLeadingComments(text)) == ""
}

// Unterminated reports whether text ends inside a string, quoted identifier, dollar
// quote or block comment (so a newline does not end the statement).
func Unterminated(text string) bool {
	sc := scanner{s: text}
	for {
		if _, ok := sc.nextSemicolon(); !ok {
			return sc.open
		}
	}
}

// StripLeadingComments removes the white space and comments before the first
// token.
func StripLeadingComments(text string) string {
	for {
		text = strings.TrimLeftFunc(text, unicode.IsSpace)
		switch {
		case strings.HasPrefix(text, "--"):
			i := strings.IndexByte(text, '\n')
			if i < 0 {
				return ""
			}
			text = text[i+1:]
		case strings.HasPrefix(text, "/*"):
			sc := scanner{s: text, i: 2}
			sc.blockComment()
			if sc.open {
				return ""
			}
			text = text[sc.i:]
		default:
			return text
		}
	}
}

// firstWords returns up to n leading keywords of a statement, upper-cased.
func firstWords(stmt string, n int) []string {
	f := strings.FieldsFunc(StripLeadingComments(stmt), func(r rune) bool {
		return !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r))
	})
	if len(f) > n {
		f = f[:n]
	}
	for i := range f {
		f[i] = strings.ToUpper(f[i])
	}
	return f
}

type scanner struct {
	s    string
	i    int
	open bool // stopped inside a literal or comment
}

// nextSemicolon advances past the next top-level semicolon and returns its
// index.
func (sc *scanner) nextSemicolon() (int, bool) {
	s := sc.s
	for sc.i < len(s) {
		c := s[sc.i]
		switch {
		case c == ';':
			sc.i++
			return sc.i - 1, true
		case c == '\'':
			// E'...' strings take backslash escapes.
			esc := sc.i > 0 && (s[sc.i-1] == 'E' || s[sc.i-1] == 'e') && (sc.i == 1 || !isIdent(s[sc.i-2]))
			sc.i++
			sc.quoted('\'', esc)
		case c == '"':
			sc.i++
			sc.quoted('"', false)
		case c == '-' && sc.i+1 < len(s) && s[sc.i+1] == '-':
			j := strings.IndexByte(s[sc.i:], '\n')
			if j < 0 {
				sc.i = len(s)
				return 0, false // a line comment ends at the end of the text
			}
			sc.i += j + 1
		case c == '/' && sc.i+1 < len(s) && s[sc.i+1] == '*':
			sc.i += 2
			sc.blockComment()
		case c == '$' && (sc.i == 0 || !isIdent(s[sc.i-1])):
			sc.dollar()
		default:
			sc.i++
		}
		if sc.open {
			return 0, false
		}
	}
	return 0, false
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// quoted skips to the end of a literal whose opening quote was consumed; a
// doubled quote is an escaped quote.
func (sc *scanner) quoted(q byte, backslash bool) {
	s := sc.s
	for sc.i < len(s) {
		c := s[sc.i]
		switch {
		case backslash && c == '\\':
			sc.i += 2
			continue
		case c == q:
			if sc.i+1 < len(s) && s[sc.i+1] == q {
				sc.i += 2
				continue
			}
			sc.i++
			return
		}
		sc.i++
	}
	sc.i = len(s)
	sc.open = true
}

// blockComment skips a (possibly nested) /* */ comment whose opening was
// consumed.
func (sc *scanner) blockComment() {
	s, depth := sc.s, 1
	for sc.i < len(s) {
		switch {
		case strings.HasPrefix(s[sc.i:], "/*"):
			depth++
			sc.i += 2
		case strings.HasPrefix(s[sc.i:], "*/"):
			depth--
			sc.i += 2
			if depth == 0 {
				return
			}
		default:
			sc.i++
		}
	}
	sc.open = true
}

// dollar skips a $tag$...$tag$ string; a $ that does not open one ($1
// parameters) is skipped alone.
func (sc *scanner) dollar() {
	s := sc.s
	j := sc.i + 1
	for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || j > sc.i+1 && s[j] >= '0' && s[j] <= '9') {
		j++
	}
	if j >= len(s) || s[j] != '$' {
		sc.i++
		return
	}
	tag := s[sc.i : j+1]
	end := strings.Index(s[j+1:], tag)
	if end < 0 {
		sc.i = len(s)
		sc.open = true
		return
	}
	sc.i = j + 1 + end + len(tag)
}
