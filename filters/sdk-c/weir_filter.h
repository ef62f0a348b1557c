// Write weir filters in C: fill a `weir_filter_t` with the phases you need,
// export it with WEIR_EXPORT_FILTER, build with filters/sdk-c/build.sh.
//
//     #include "weir_filter.h"
//
//     static weir_decision_t on_request_headers(weir_request_t req) {
//         weir_req_set_header(req, "x-hello", "world");
//         return weir_continue();
//     }
//
//     WEIR_EXPORT_FILTER(.on_request_headers = on_request_headers)
//
// weir calls only the phases whose callbacks are set. One instance serves
// every phase of a request and is reused by later requests: reset
// per-request state in on_request_headers.
//
// Memory: every string or byte buffer the SDK hands out (header values,
// context values, formatted text, ...) lives until the current callback
// returns, then the SDK frees it; copy it (strdup) to keep it longer. Values a
// filter passes in are copied by the SDK.
#ifndef WEIR_FILTER_H
#define WEIR_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Bytes that need not be text (bodies, header values with any byte).
typedef struct {
    const uint8_t *ptr;
    size_t len;
} weir_bytes_t;

// The live request and response, valid during the callback that got them.
typedef uint32_t weir_request_t;
typedef uint32_t weir_response_t;

typedef enum { WEIR_CONTINUE, WEIR_RESPOND, WEIR_REPLACE } weir_decision_kind_t;

// What a phase decides. Build it with weir_continue, weir_respond or
// weir_replace; add to a response with weir_respond_header / weir_respond_body.
typedef struct {
    weir_decision_kind_t kind;
    uint16_t status;
    size_t header_count;
    const char **header_names;
    weir_bytes_t *header_values;
    weir_bytes_t body;
} weir_decision_t;

// What happened to the request, for on_log. Absent strings are NULL.
typedef struct {
    uint16_t status;
    uint64_t duration_us;
    uint64_t request_body_bytes;
    uint64_t response_body_bytes;
    const char *upstream_target;
    const char *route;
    const char *error;
} weir_log_info_t;

// The filter's `config` from weir's config file, as JSON text ("null" when
// absent); read fields with weir_config_string / weir_config_number.
typedef struct {
    const char *json;
} weir_config_t;

typedef struct {
    // Called once per instance. Return NULL to accept the config, or an
    // error message (weir check reports it at filters.NAME.config).
    const char *(*init)(weir_config_t config);
    weir_decision_t (*on_request_headers)(weir_request_t req);
    // Return weir_continue, weir_replace (a new body) or weir_respond.
    weir_decision_t (*on_request_body)(weir_request_t req, weir_bytes_t body);
    weir_decision_t (*on_response_headers)(weir_request_t req, weir_response_t resp);
    // Return weir_continue or weir_replace.
    weir_decision_t (*on_response_body)(weir_request_t req, weir_response_t resp, weir_bytes_t body);
    void (*on_log)(weir_request_t req, weir_response_t resp, const weir_log_info_t *info);
} weir_filter_t;

// Defines the filter this component exports, from designated initializers.
#define WEIR_EXPORT_FILTER(...) const weir_filter_t weir_filter = {__VA_ARGS__};
extern const weir_filter_t weir_filter;

// ---- Decisions ----
weir_decision_t weir_continue(void);
// Answer the client with `status` (add headers and a body with the two below).
weir_decision_t weir_respond(uint16_t status);
void weir_respond_header(weir_decision_t *d, const char *name, const char *value);
void weir_respond_body(weir_decision_t *d, const void *body, size_t len);
// A text answer: status, content-type text/plain; charset=utf-8, and the body.
weir_decision_t weir_respond_text(uint16_t status, const char *body);
// Body phases: send this body instead (weir keeps the framing right).
weir_decision_t weir_replace(const void *body, size_t len);

// ---- Config (top-level fields of a JSON object) ----
// A required string field: NULL and *error set when it is missing or not a string.
const char *weir_config_string(weir_config_t config, const char *key, const char **error);
// An optional string field: `fallback` when absent; NULL and *error when not a string.
const char *weir_config_string_or(weir_config_t config, const char *key, const char *fallback,
                                  const char **error);
// A required number field: false and *error set when missing or not a number.
bool weir_config_number(weir_config_t config, const char *key, double *out, const char **error);
// The raw JSON text of a field (an array, an object, ...), or NULL when absent.
const char *weir_config_raw(weir_config_t config, const char *key);

// ---- Request ----
const char *weir_req_method(weir_request_t req);
const char *weir_req_path(weir_request_t req);
// NULL when the request has no query string.
const char *weir_req_query(weir_request_t req);
// The first value of a header as text, NULL when absent.
const char *weir_req_header(weir_request_t req, const char *name);
bool weir_req_header_bytes(weir_request_t req, const char *name, weir_bytes_t *out);
// The edits return false when weir refuses them (CR, LF, NUL in a value, a bad
// name, a path without a leading /); weir_last_error() says why.
bool weir_req_set_header(weir_request_t req, const char *name, const char *value);
bool weir_req_set_header_bytes(weir_request_t req, const char *name, weir_bytes_t value);
bool weir_req_append_header(weir_request_t req, const char *name, const char *value);
void weir_req_remove_header(weir_request_t req, const char *name);
bool weir_req_set_path(weir_request_t req, const char *path);
// NULL removes the query string.
bool weir_req_set_query(weir_request_t req, const char *query);
// Edits of the response to this request (whichever answers it), made in a
// request phase: weir applies them when the response arrives, before the
// response phases. False when weir refuses them (a bad name, CR, LF, NUL in a
// value, or the response has already arrived); weir_last_error() says why.
bool weir_req_set_response_header(weir_request_t req, const char *name, const char *value);
bool weir_req_set_response_header_bytes(weir_request_t req, const char *name, weir_bytes_t value);
bool weir_req_append_response_header(weir_request_t req, const char *name, const char *value);
bool weir_req_remove_response_header(weir_request_t req, const char *name);
const char *weir_req_client_ip(weir_request_t req);
const char *weir_req_id(weir_request_t req);

// ---- Response ----
uint16_t weir_resp_status(weir_response_t resp);
bool weir_resp_set_status(weir_response_t resp, uint16_t status);
const char *weir_resp_header(weir_response_t resp, const char *name);
bool weir_resp_set_header(weir_response_t resp, const char *name, const char *value);
bool weir_resp_append_header(weir_response_t resp, const char *name, const char *value);
void weir_resp_remove_header(weir_response_t resp, const char *name);

// The reason of the last refused edit or failed capability call.
const char *weir_last_error(void);

// ---- Context: strings shared by the filters of one request ----
// NULL when the key is not set.
const char *weir_context_get(const char *key);
void weir_context_set(const char *key, const char *value);
void weir_context_remove(const char *key);

// ---- Logging, into weir's log tagged with the filter's name (printf format) ----
typedef enum { WEIR_TRACE, WEIR_DEBUG, WEIR_INFO, WEIR_WARN, WEIR_ERROR } weir_level_t;
void weir_log(weir_level_t level, const char *format, ...) __attribute__((format(printf, 2, 3)));
#define weir_log_debug(...) weir_log(WEIR_DEBUG, __VA_ARGS__)
#define weir_log_info(...) weir_log(WEIR_INFO, __VA_ARGS__)
#define weir_log_warn(...) weir_log(WEIR_WARN, __VA_ARGS__)
#define weir_log_error(...) weir_log(WEIR_ERROR, __VA_ARGS__)
// printf into a string that lives until the callback returns.
const char *weir_format(const char *format, ...) __attribute__((format(printf, 1, 2)));

// ---- Key-value stores (grants.key_value) ----
// Calls return false on an error; weir_last_error() says what failed, e.g.
// "unavailable: ..." or "not granted: ...".
typedef uint32_t weir_kv_store_t;
// Opens a granted store; open it once, in init, and keep the handle.
bool weir_kv_open(const char *name, weir_kv_store_t *store);
// *found is false when the key is not set.
bool weir_kv_get(weir_kv_store_t store, const char *key, weir_bytes_t *value, bool *found);
// ttl_ms 0: never expires.
bool weir_kv_set(weir_kv_store_t store, const char *key, weir_bytes_t value, uint64_t ttl_ms);
bool weir_kv_delete(weir_kv_store_t store, const char *key, bool *was_set);
// ttl_ms (0: none) applies only when this call creates the key.
bool weir_kv_increment(weir_kv_store_t store, const char *key, int64_t delta, uint64_t ttl_ms,
                       int64_t *value);
// expected NULL: set only if the key is not set.
bool weir_kv_compare_and_swap(weir_kv_store_t store, const char *key, const weir_bytes_t *expected,
                              weir_bytes_t value, uint64_t ttl_ms, bool *swapped);
typedef struct {
    bool allowed;
    uint64_t remaining;
    uint64_t retry_after_ms;
    uint64_t reset_after_ms;
} weir_throttled_t;
// GCRA rate limiting: spend `cost` of `limit` per `window_ms` on `key`.
bool weir_kv_throttle(weir_kv_store_t store, const char *key, uint64_t limit, uint64_t window_ms,
                      uint64_t cost, weir_throttled_t *out);

// ---- Secrets (grants.secrets) ----
bool weir_secret_get(const char *name, weir_bytes_t *value);

#ifdef __cplusplus
}
#endif

#endif
