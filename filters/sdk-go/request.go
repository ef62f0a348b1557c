package weirfilter

import (
	"errors"

	"weirfilter/bindings/weir_filter_http"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// Request is the live request, valid during the call that received it.
// Header names are case-insensitive; values are bytes, read as strings here.
type Request struct {
	handle *weir_filter_http.Request
}

// Response is the live response, valid during the call that received it.
type Response struct {
	handle *weir_filter_http.Response
}

// refused turns weir's refusal of an edit (CR, LF or NUL in a value, a bad
// name, ...) into an error.
func refused(result witTypes.Result[witTypes.Unit, string]) error {
	if result.IsErr() {
		return errors.New(result.Err())
	}
	return nil
}

func optionString(value witTypes.Option[[]uint8]) (string, bool) {
	if value.IsNone() {
		return "", false
	}
	return string(value.Some()), true
}

func headerPairs(pairs []witTypes.Tuple2[string, []uint8]) [][2]string {
	out := make([][2]string, len(pairs))
	for i, pair := range pairs {
		out[i] = [2]string{pair.F0, string(pair.F1)}
	}
	return out
}

func strings(values [][]uint8) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// Method is the upper-case method, e.g. GET.
func (r *Request) Method() string { return r.handle.Method() }

// Path is the path without the query string.
func (r *Request) Path() string { return r.handle.Path() }

// SetPath replaces the path sent upstream (it must start with /).
func (r *Request) SetPath(path string) error { return refused(r.handle.SetPath(path)) }

// Query is the query string without "?"; false when there is none.
func (r *Request) Query() (string, bool) {
	q := r.handle.Query()
	return q.SomeOr(""), q.IsSome()
}

// SetQuery replaces the query string; "" removes it.
func (r *Request) SetQuery(query string) error {
	if query == "" {
		return refused(r.handle.SetQuery(witTypes.None[string]()))
	}
	return refused(r.handle.SetQuery(witTypes.Some(query)))
}

// Header is the first value of a header; false when absent.
func (r *Request) Header(name string) (string, bool) { return optionString(r.handle.Header(name)) }

// HeaderAll is every value of a header, in order.
func (r *Request) HeaderAll(name string) []string { return strings(r.handle.HeaderAll(name)) }

// Headers is every header as (name, value) pairs, in order.
func (r *Request) Headers() [][2]string { return headerPairs(r.handle.Headers()) }

// SetHeader replaces every value of a header with this one.
func (r *Request) SetHeader(name, value string) error {
	return refused(r.handle.SetHeader(name, []byte(value)))
}

// AppendHeader adds a value, keeping the existing ones.
func (r *Request) AppendHeader(name, value string) error {
	return refused(r.handle.AppendHeader(name, []byte(value)))
}

// RemoveHeader removes every value of a header.
func (r *Request) RemoveHeader(name string) { r.handle.RemoveHeader(name) }

// SetResponseHeader replaces every value of a header of the response to this
// request, whichever answers it. Made in a request phase, the edit waits for
// the response and is applied before the response phases run. Refused (an
// error) for a bad name, CR, LF or NUL in the value, or once the response has
// arrived (edit it through the Response then).
func (r *Request) SetResponseHeader(name, value string) error {
	return refused(r.handle.SetResponseHeader(name, []byte(value)))
}

// AppendResponseHeader adds a value to a header of the response to this
// request; see SetResponseHeader.
func (r *Request) AppendResponseHeader(name, value string) error {
	return refused(r.handle.AppendResponseHeader(name, []byte(value)))
}

// RemoveResponseHeader removes every value of a header of the response to
// this request; see SetResponseHeader.
func (r *Request) RemoveResponseHeader(name string) error {
	return refused(r.handle.RemoveResponseHeader(name))
}

// ClientIP is the client's address: the TCP peer, or from X-Forwarded-For
// when the peer is one of the listener's trusted_proxies.
func (r *Request) ClientIP() string { return r.handle.ClientIp() }

// ID is the request id (x-request-id).
func (r *Request) ID() string { return r.handle.Id() }

// Status is the response's status code.
func (r *Response) Status() uint16 { return r.handle.Status() }

// SetStatus changes the status code (response headers phase).
func (r *Response) SetStatus(status uint16) error { return refused(r.handle.SetStatus(status)) }

// Header is the first value of a header; false when absent.
func (r *Response) Header(name string) (string, bool) { return optionString(r.handle.Header(name)) }

// HeaderAll is every value of a header, in order.
func (r *Response) HeaderAll(name string) []string { return strings(r.handle.HeaderAll(name)) }

// Headers is every header as (name, value) pairs, in order.
func (r *Response) Headers() [][2]string { return headerPairs(r.handle.Headers()) }

// SetHeader replaces every value of a header with this one.
func (r *Response) SetHeader(name, value string) error {
	return refused(r.handle.SetHeader(name, []byte(value)))
}

// AppendHeader adds a value, keeping the existing ones.
func (r *Response) AppendHeader(name, value string) error {
	return refused(r.handle.AppendHeader(name, []byte(value)))
}

// RemoveHeader removes every value of a header.
func (r *Response) RemoveHeader(name string) { r.handle.RemoveHeader(name) }
