package weirfilter

import "sort"

type decisionKind int

const (
	kindContinue decisionKind = iota
	kindRespond
	kindReplace
)

// Decision is what a phase decides: Continue, Respond (or RespondText) or,
// in the body phases, Replace.
type Decision struct {
	kind    decisionKind
	status  uint16
	headers [][2]string
	body    []byte
}

// Headers of a response a filter sends (names are lower-cased by weir's rules:
// give them in lower case).
type Headers map[string]string

// Continue lets the request (or response) go on unchanged.
func Continue() Decision { return Decision{kind: kindContinue} }

// Respond answers the client with this response instead of the upstream's.
func Respond(status uint16, headers Headers, body []byte) Decision {
	d := Decision{kind: kindRespond, status: status, body: body}
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names) // a stable header order
	for _, name := range names {
		d.headers = append(d.headers, [2]string{name, headers[name]})
	}
	return d
}

// RespondText answers with a text/plain body.
func RespondText(status uint16, body string) Decision {
	return Respond(status, Headers{"content-type": "text/plain; charset=utf-8"}, []byte(body))
}

// Replace, in the body phases, sends this body instead (weir keeps the
// framing right).
func Replace(body []byte) Decision { return Decision{kind: kindReplace, body: body} }
