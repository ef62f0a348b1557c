// {{name}}: sets `x-{{name}}: <greeting>` on the request (the upstream sees
// it) and on the response (the client sees it).
#include <string.h>

#include "weir_filter.h"

#define HEADER "x-{{name}}"

static char *greeting;

// Called once per instance with the filter's `config`; an error message
// makes weir refuse the config (`weir check` shows it).
static const char *init(weir_config_t config) {
    const char *error = NULL;
    const char *value = weir_config_string(config, "greeting", &error);
    if (value == NULL) return error;
    greeting = strdup(value);  // SDK strings live until the callback returns
    return NULL;
}

static weir_decision_t on_request_headers(weir_request_t req) {
    if (!weir_req_set_header(req, HEADER, greeting)) {
        weir_log_warn("cannot set " HEADER ": %s", weir_last_error());
    }
    return weir_continue();
}

static weir_decision_t on_response_headers(weir_request_t req, weir_response_t resp) {
    (void)req;
    weir_resp_set_header(resp, HEADER, greeting);
    return weir_continue();
}

// weir calls only the phases whose callbacks are set.
WEIR_EXPORT_FILTER(.init = init, .on_request_headers = on_request_headers,
                   .on_response_headers = on_response_headers)
