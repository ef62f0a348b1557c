// {{name}}: sets `x-{{name}}: <greeting>` on the request (the upstream sees
// it) and on the response (the client sees it).
package main

import (
	weir "weirfilter"
)

const header = "x-{{name}}"

type filter struct {
	greeting string
}

// Called once per instance with the filter's `config`; an error makes weir
// refuse the config (`weir check` shows it).
func newFilter(cfg weir.Config) (weir.Filter, error) {
	greeting, err := cfg.String("greeting")
	if err != nil {
		return nil, err
	}
	return &filter{greeting: greeting}, nil
}

// weir calls only the phases the type has methods for.
func (f *filter) OnRequestHeaders(req *weir.Request) weir.Decision {
	if err := req.SetHeader(header, f.greeting); err != nil {
		weir.Warnf("cannot set %s: %v", header, err)
	}
	return weir.Continue()
}

func (f *filter) OnResponseHeaders(req *weir.Request, resp *weir.Response) weir.Decision {
	_ = resp.SetHeader(header, f.greeting)
	return weir.Continue()
}

func init() {
	weir.Export(newFilter)
}

func main() {}
