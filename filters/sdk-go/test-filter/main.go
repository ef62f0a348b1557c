// The Go SDK's test filter: answers with the secret named by `x-secret`
// (500 with weir's reason when it is not granted). Every response carries
// x-early-response: go, queued in the request phase.
package main

import weir "weirfilter"

type secrets struct{}

func (secrets) OnRequestHeaders(req *weir.Request) weir.Decision {
	if err := req.SetResponseHeader("x-early-response", "go"); err != nil {
		return weir.RespondText(500, err.Error())
	}
	name, ok := req.Header("x-secret")
	if !ok {
		return weir.Continue()
	}
	value, err := weir.Secret(name)
	if err != nil {
		return weir.RespondText(500, err.Error())
	}
	return weir.Respond(200, nil, value)
}

func init() {
	weir.Export(func(weir.Config) (weir.Filter, error) { return secrets{}, nil })
}

func main() {}
