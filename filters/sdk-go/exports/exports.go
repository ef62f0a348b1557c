// Package export_wit_world is the component's exports: each forwards to the
// weirfilter package. The build copies it beside the generated bindings.
//
// A borrowed handle lent to an export must be dropped before the export
// returns (the component model's rule; weir traps otherwise): the bindings
// leave that to the callee.
package export_wit_world

import (
	"weirfilter"
	"weirfilter/bindings/weir_filter_http"
	"weirfilter/bindings/weir_filter_types"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

func Init(config string) witTypes.Result[weir_filter_types.Phases, string] {
	defer weirfilter.CollectIfDue()
	return weirfilter.HandleInit(config)
}

func OnRequestHeaders(req *weir_filter_http.Request) weir_filter_types.Decision {
	defer weirfilter.CollectIfDue()
	defer req.Drop()
	return weirfilter.HandleRequestHeaders(req)
}

func OnRequestBody(req *weir_filter_http.Request, body []uint8) weir_filter_types.RequestBodyDecision {
	defer weirfilter.CollectIfDue()
	defer req.Drop()
	return weirfilter.HandleRequestBody(req, body)
}

func OnResponseHeaders(req *weir_filter_http.Request, resp *weir_filter_http.Response) weir_filter_types.Decision {
	defer weirfilter.CollectIfDue()
	defer req.Drop()
	defer resp.Drop()
	return weirfilter.HandleResponseHeaders(req, resp)
}

func OnResponseBody(req *weir_filter_http.Request, resp *weir_filter_http.Response, body []uint8) weir_filter_types.ResponseBodyDecision {
	defer weirfilter.CollectIfDue()
	defer req.Drop()
	defer resp.Drop()
	return weirfilter.HandleResponseBody(req, resp, body)
}

func OnLog(req *weir_filter_http.Request, resp *weir_filter_http.Response, info weir_filter_types.LogInfo) {
	defer weirfilter.CollectIfDue()
	defer req.Drop()
	defer resp.Drop()
	weirfilter.HandleLog(req, resp, info)
}
