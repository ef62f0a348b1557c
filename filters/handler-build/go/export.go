// Package export_wasi_http_incoming_handler is the package the generated
// export of `wasi:http/incoming-handler#handle` calls: the handler's package
// main hands its function to Export in an init function.
package export_wasi_http_incoming_handler

import (
	"wit_component/wasi_http_types"
)

var handler func(*wasi_http_types.IncomingRequest, *wasi_http_types.ResponseOutparam)

// Export makes handle the answer to every request.
func Export(handle func(request *wasi_http_types.IncomingRequest, responseOut *wasi_http_types.ResponseOutparam)) {
	handler = handle
}

// Handle is called by the generated export.
func Handle(request *wasi_http_types.IncomingRequest, responseOut *wasi_http_types.ResponseOutparam) {
	if handler == nil {
		panic("no handler: call export_wasi_http_incoming_handler.Export(handle) in an init function")
	}
	handler(request, responseOut)
}
