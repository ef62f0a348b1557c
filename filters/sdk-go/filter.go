// Package weirfilter writes weir filters in Go: a type with a method per
// phase it takes part in, registered with Export from an init function.
//
//	type addHeader struct{ name, value string }
//
//	func (f *addHeader) OnRequestHeaders(req *weirfilter.Request) weirfilter.Decision {
//		_ = req.SetHeader(f.name, f.value)
//		return weirfilter.Continue()
//	}
//
//	func init() {
//		weirfilter.Export(func(cfg weirfilter.Config) (weirfilter.Filter, error) {
//			return &addHeader{name: "x-hello", value: "world"}, nil
//		})
//	}
//
//	func main() {}
//
// weir calls only the phases the type implements (RequestHeadersFilter,
// RequestBodyFilter, ResponseHeadersFilter, ResponseBodyFilter, LogFilter).
// One value serves every phase of a request and is reused by later requests:
// reset per-request state in OnRequestHeaders. Build with
// filters/sdk-go/build.sh.
package weirfilter

// Filter is a filter value; it takes part in the phases whose interface it
// implements.
type Filter any

// RequestHeadersFilter runs on the request's headers, before the upstream.
type RequestHeadersFilter interface {
	OnRequestHeaders(req *Request) Decision
}

// RequestBodyFilter sees the whole request body (up to max_body_bytes):
// Continue, Replace or Respond.
type RequestBodyFilter interface {
	OnRequestBody(req *Request, body []byte) Decision
}

// ResponseHeadersFilter runs on the response's status and headers.
type ResponseHeadersFilter interface {
	OnResponseHeaders(req *Request, resp *Response) Decision
}

// ResponseBodyFilter sees the whole response body: Continue or Replace.
type ResponseBodyFilter interface {
	OnResponseBody(req *Request, resp *Response, body []byte) Decision
}

// LogFilter runs after the response went out; edits are ignored.
type LogFilter interface {
	OnLog(req *Request, resp *Response, info LogInfo)
}

// LogInfo is what happened to the request, for OnLog. Absent strings are "".
type LogInfo struct {
	Status            uint16
	DurationMicros    uint64
	RequestBodyBytes  uint64
	ResponseBodyBytes uint64
	UpstreamTarget    string
	Route             string
	Error             string
}

var (
	newFilter func(Config) (Filter, error)
	// The instance's filter, made by init.
	current Filter
)

// Export registers the constructor weir calls once per instance with the
// filter's config; an error rejects the config (weir check reports it at
// filters.NAME.config). Call it from an init function.
func Export(constructor func(Config) (Filter, error)) {
	newFilter = constructor
}
