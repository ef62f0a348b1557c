package weirfilter

import (
	"weirfilter/bindings/weir_filter_http"
	"weirfilter/bindings/weir_filter_types"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// The functions below are called by the component's exports (the file
// exports/exports.go the build puts beside the generated bindings); they are
// not for filters.

// HandleInit makes the instance's filter from its config.
func HandleInit(config string) witTypes.Result[weir_filter_types.Phases, string] {
	if newFilter == nil {
		return witTypes.Err[weir_filter_types.Phases, string]("the filter never called weirfilter.Export")
	}
	f, err := newFilter(Config{JSON: []byte(config)})
	if err != nil {
		return witTypes.Err[weir_filter_types.Phases, string](err.Error())
	}
	current = f
	var phases weir_filter_types.Phases
	if _, ok := f.(RequestHeadersFilter); ok {
		phases |= weir_filter_types.Phases_RequestHeaders
	}
	if _, ok := f.(RequestBodyFilter); ok {
		phases |= weir_filter_types.Phases_RequestBody
	}
	if _, ok := f.(ResponseHeadersFilter); ok {
		phases |= weir_filter_types.Phases_ResponseHeaders
	}
	if _, ok := f.(ResponseBodyFilter); ok {
		phases |= weir_filter_types.Phases_ResponseBody
	}
	if _, ok := f.(LogFilter); ok {
		phases |= weir_filter_types.Phases_Log
	}
	return witTypes.Ok[weir_filter_types.Phases, string](phases)
}

func (d Decision) response() weir_filter_types.Response {
	headers := make([]witTypes.Tuple2[string, []uint8], len(d.headers))
	for i, h := range d.headers {
		headers[i] = witTypes.Tuple2[string, []uint8]{F0: h[0], F1: []byte(h[1])}
	}
	body := d.body
	if body == nil {
		body = []byte{}
	}
	return weir_filter_types.Response{Status: d.status, Headers: headers, Body: body}
}

func (d Decision) header() weir_filter_types.Decision {
	if d.kind == kindRespond {
		return weir_filter_types.MakeDecisionRespond(d.response())
	}
	return weir_filter_types.MakeDecisionContinue()
}

// HandleRequestHeaders runs OnRequestHeaders.
func HandleRequestHeaders(req *weir_filter_http.Request) weir_filter_types.Decision {
	return current.(RequestHeadersFilter).OnRequestHeaders(&Request{req}).header()
}

// HandleRequestBody runs OnRequestBody.
func HandleRequestBody(req *weir_filter_http.Request, body []uint8) weir_filter_types.RequestBodyDecision {
	d := current.(RequestBodyFilter).OnRequestBody(&Request{req}, body)
	switch d.kind {
	case kindRespond:
		return weir_filter_types.MakeRequestBodyDecisionRespond(d.response())
	case kindReplace:
		return weir_filter_types.MakeRequestBodyDecisionReplace(d.body)
	default:
		return weir_filter_types.MakeRequestBodyDecisionContinue()
	}
}

// HandleResponseHeaders runs OnResponseHeaders.
func HandleResponseHeaders(req *weir_filter_http.Request, resp *weir_filter_http.Response) weir_filter_types.Decision {
	return current.(ResponseHeadersFilter).OnResponseHeaders(&Request{req}, &Response{resp}).header()
}

// HandleResponseBody runs OnResponseBody (Respond is not possible there: continue).
func HandleResponseBody(req *weir_filter_http.Request, resp *weir_filter_http.Response, body []uint8) weir_filter_types.ResponseBodyDecision {
	d := current.(ResponseBodyFilter).OnResponseBody(&Request{req}, &Response{resp}, body)
	if d.kind == kindReplace {
		return weir_filter_types.MakeResponseBodyDecisionReplace(d.body)
	}
	return weir_filter_types.MakeResponseBodyDecisionContinue()
}

// HandleLog runs OnLog.
func HandleLog(req *weir_filter_http.Request, resp *weir_filter_http.Response, info weir_filter_types.LogInfo) {
	current.(LogFilter).OnLog(&Request{req}, &Response{resp}, LogInfo{
		Status:            info.Status,
		DurationMicros:    info.DurationUs,
		RequestBodyBytes:  info.RequestBodyBytes,
		ResponseBodyBytes: info.ResponseBodyBytes,
		UpstreamTarget:    info.UpstreamTarget.SomeOr(""),
		Route:             info.Route.SomeOr(""),
		Error:             info.Error.SomeOr(""),
	})
}
