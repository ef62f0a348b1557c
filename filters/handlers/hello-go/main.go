// hello-go: answers 200 text/plain "hello from a weir handler\n" with
// `x-handler: hello`, or the environment variable GREETING's value when set.
package main

import (
	"os"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
	incoming "wit_component/export_wasi_http_incoming_handler"
	types "wit_component/wasi_http_types"
)

func header(name, value string) witTypes.Tuple2[string, []uint8] {
	return witTypes.Tuple2[string, []uint8]{F0: name, F1: []uint8(value)}
}

func handle(request *types.IncomingRequest, responseOut *types.ResponseOutparam) {
	request.Drop()
	text, ok := os.LookupEnv("GREETING")
	if !ok {
		text = "hello from a weir handler\n"
	}
	headers := types.FieldsFromList([]witTypes.Tuple2[string, []uint8]{
		header("content-type", "text/plain"),
		header("x-handler", "hello"),
	}).Ok()
	response := types.MakeOutgoingResponse(headers)
	body := response.Body().Ok()
	types.ResponseOutparamSet(responseOut, witTypes.Ok[*types.OutgoingResponse, types.ErrorCode](response))
	stream := body.Write().Ok()
	data := []byte(text)
	// At most 4096 bytes per call.
	for len(data) > 0 {
		n := min(len(data), 4096)
		if stream.BlockingWriteAndFlush(data[:n]).IsErr() {
			break
		}
		data = data[n:]
	}
	stream.Drop()
	types.OutgoingBodyFinish(body, witTypes.None[*types.Fields]())
}

func init() {
	incoming.Export(handle)
}

func main() {}
