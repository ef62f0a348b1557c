// The reference filter (see ../README.md), in Go.
package main

import (
	"fmt"
	"strconv"

	weir "weirfilter"
)

const lang = "go"

type reference struct {
	store *weir.Store
}

func newReference(cfg weir.Config) (weir.Filter, error) {
	name, err := cfg.String("store")
	if err != nil {
		return nil, err
	}
	store, err := weir.OpenStore(name)
	if err != nil {
		return nil, err
	}
	return &reference{store: store}, nil
}

func headerIsYes(req *weir.Request, name string) bool {
	value, ok := req.Header(name)
	return ok && value == "yes"
}

func (f *reference) OnRequestHeaders(req *weir.Request) weir.Decision {
	if headerIsYes(req, "x-ref-deny") {
		return weir.Respond(403, weir.Headers{"content-type": "text/plain", "x-ref-denied": "yes"},
			[]byte("denied by the reference filter"))
	}
	name, ok := req.Header("x-ref-name")
	if !ok {
		name = "anonymous"
	}
	_ = req.SetHeader("x-ref-greeting", "hello, "+name)
	weir.ContextSet("ref-name", name)
	if count, err := f.store.Increment("hits:"+name, 1, 0); err == nil {
		weir.ContextSet("ref-count", strconv.FormatInt(count, 10))
	} else {
		weir.ContextSet("ref-count", "unavailable")
		weir.Warnf("not counted: %v", err)
	}
	return weir.Continue()
}

func (f *reference) OnRequestBody(req *weir.Request, body []byte) weir.Decision {
	if !headerIsYes(req, "x-ref-upper") {
		return weir.Continue()
	}
	// Byte by byte: bytes.ToUpper would rewrite invalid UTF-8 and non-ASCII letters.
	upper := make([]byte, len(body))
	for i, b := range body {
		if b >= 'a' && b <= 'z' {
			b -= 'a' - 'A'
		}
		upper[i] = b
	}
	return weir.Replace(upper)
}

func (f *reference) OnResponseHeaders(req *weir.Request, resp *weir.Response) weir.Decision {
	_ = resp.SetHeader("x-ref-lang", lang)
	for _, pair := range [][2]string{{"ref-name", "x-ref-name"}, {"ref-count", "x-ref-count"}} {
		if value, ok := weir.ContextGet(pair[0]); ok {
			_ = resp.SetHeader(pair[1], value)
		}
	}
	return weir.Continue()
}

func (f *reference) OnResponseBody(req *weir.Request, resp *weir.Response, body []byte) weir.Decision {
	if !headerIsYes(req, "x-ref-wrap") {
		return weir.Continue()
	}
	name, ok := weir.ContextGet("ref-name")
	if !ok {
		name = "-"
	}
	out := append([]byte(fmt.Sprintf("[%s:%s]", lang, name)), body...)
	return weir.Replace(append(out, "[/"+lang+"]"...))
}

func (f *reference) OnLog(req *weir.Request, resp *weir.Response, info weir.LogInfo) {
	weir.Infof("reference: %s %s -> %d", req.Method(), req.Path(), info.Status)
}

func init() {
	weir.Export(newReference)
}

func main() {}
