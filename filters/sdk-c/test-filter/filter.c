// The C SDK's test filter: answers with the secret named by `x-secret`
// (500 with weir's reason when it is not granted). Every response carries
// x-early-response: c, queued in the request phase.
#include "weir_filter.h"

static weir_decision_t on_request_headers(weir_request_t req) {
    if (!weir_req_set_response_header(req, "x-early-response", "c")) {
        return weir_respond_text(500, weir_last_error());
    }
    const char *name = weir_req_header(req, "x-secret");
    if (name == NULL) return weir_continue();
    weir_bytes_t value;
    if (!weir_secret_get(name, &value)) return weir_respond_text(500, weir_last_error());
    weir_decision_t answer = weir_respond(200);
    weir_respond_body(&answer, value.ptr, value.len);
    return answer;
}

WEIR_EXPORT_FILTER(.on_request_headers = on_request_headers)
