// The reference filter (see ../README.md), in C.
#include <stdlib.h>
#include <string.h>

#include "weir_filter.h"

#define LANG "c"

static weir_kv_store_t store;

static bool header_is_yes(weir_request_t req, const char *name) {
    const char *value = weir_req_header(req, name);
    return value != NULL && strcmp(value, "yes") == 0;
}

static const char *init(weir_config_t config) {
    const char *error = NULL;
    const char *name = weir_config_string(config, "store", &error);
    if (name == NULL) return error;
    if (!weir_kv_open(name, &store)) return weir_last_error();
    return NULL;
}

static weir_decision_t on_request_headers(weir_request_t req) {
    if (header_is_yes(req, "x-ref-deny")) {
        weir_decision_t deny = weir_respond(403);
        weir_respond_header(&deny, "content-type", "text/plain");
        weir_respond_header(&deny, "x-ref-denied", "yes");
        const char *body = "denied by the reference filter";
        weir_respond_body(&deny, body, strlen(body));
        return deny;
    }
    const char *name = weir_req_header(req, "x-ref-name");
    if (name == NULL) name = "anonymous";
    weir_req_set_header(req, "x-ref-greeting", weir_format("hello, %s", name));
    weir_context_set("ref-name", name);
    int64_t count;
    if (weir_kv_increment(store, weir_format("hits:%s", name), 1, 0, &count)) {
        weir_context_set("ref-count", weir_format("%lld", (long long)count));
    } else {
        weir_context_set("ref-count", "unavailable");
        weir_log_warn("not counted: %s", weir_last_error());
    }
    return weir_continue();
}

static weir_decision_t on_request_body(weir_request_t req, weir_bytes_t body) {
    if (!header_is_yes(req, "x-ref-upper")) return weir_continue();
    uint8_t *upper = malloc(body.len ? body.len : 1);
    for (size_t i = 0; i < body.len; i++) {
        uint8_t b = body.ptr[i];
        upper[i] = b >= 'a' && b <= 'z' ? (uint8_t)(b - 'a' + 'A') : b;
    }
    weir_decision_t replaced = weir_replace(upper, body.len);
    free(upper);
    return replaced;
}

static weir_decision_t on_response_headers(weir_request_t req, weir_response_t resp) {
    (void)req;
    weir_resp_set_header(resp, "x-ref-lang", LANG);
    const char *name = weir_context_get("ref-name");
    if (name != NULL) weir_resp_set_header(resp, "x-ref-name", name);
    const char *count = weir_context_get("ref-count");
    if (count != NULL) weir_resp_set_header(resp, "x-ref-count", count);
    return weir_continue();
}

static weir_decision_t on_response_body(weir_request_t req, weir_response_t resp, weir_bytes_t body) {
    (void)resp;
    if (!header_is_yes(req, "x-ref-wrap")) return weir_continue();
    const char *name = weir_context_get("ref-name");
    const char *open = weir_format("[" LANG ":%s]", name ? name : "-");
    const char *close = "[/" LANG "]";
    size_t open_len = strlen(open), close_len = strlen(close);
    uint8_t *out = malloc(open_len + body.len + close_len);
    memcpy(out, open, open_len);
    if (body.len) memcpy(out + open_len, body.ptr, body.len);
    memcpy(out + open_len + body.len, close, close_len);
    weir_decision_t replaced = weir_replace(out, open_len + body.len + close_len);
    free(out);
    return replaced;
}

static void on_log(weir_request_t req, weir_response_t resp, const weir_log_info_t *info) {
    (void)resp;
    weir_log_info("reference: %s %s -> %u", weir_req_method(req), weir_req_path(req), info->status);
}

WEIR_EXPORT_FILTER(.init = init, .on_request_headers = on_request_headers,
                   .on_request_body = on_request_body, .on_response_headers = on_response_headers,
                   .on_response_body = on_response_body, .on_log = on_log)
