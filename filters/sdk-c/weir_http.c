// The request, the response, the context and logging, over the bindings.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_internal.h"

static const char *last_error = "";

filter_string_t weir__str(const char *s) { return (filter_string_t){(uint8_t *)s, strlen(s)}; }

const char *weir__take_string(filter_string_t *s) {
    char *out = weir__alloc(s->len + 1);
    if (s->len) memcpy(out, s->ptr, s->len);
    out[s->len] = 0;
    filter_string_free(s);
    return out;
}

weir_bytes_t weir__take_bytes(filter_list_u8_t *bytes) {
    // An empty list's pointer is not an allocation (the host may pass any
    // aligned value): never free it, never hand it out.
    if (bytes->len == 0) return (weir_bytes_t){(const uint8_t *)"", 0};
    weir__track(bytes->ptr);
    return (weir_bytes_t){bytes->ptr, bytes->len};
}

void weir__set_error(const char *prefix, filter_string_t *message) {
    const char *text = weir__take_string(message);
    last_error = prefix ? weir_format("%s: %s", prefix, text) : text;
}

const char *weir_last_error(void) { return last_error; }

static weir_filter_http_borrow_request_t req_handle(weir_request_t req) {
    return (weir_filter_http_borrow_request_t){(int32_t)req};
}

static weir_filter_http_borrow_response_t resp_handle(weir_response_t resp) {
    return (weir_filter_http_borrow_response_t){(int32_t)resp};
}

// Header values as text: the bytes up to the first NUL (weir refuses NUL in
// values it sets; a client's may still carry any byte: use *_header_bytes).
static const char *text_of(filter_list_u8_t *value) {
    return weir__take_string((filter_string_t *)value);
}

// Runs an edit that weir may refuse; false and weir_last_error() when it does.
#define EDIT(call)                                                                                 \
    do {                                                                                           \
        filter_string_t err;                                                                       \
        if (!(call)) {                                                                             \
            weir__set_error(NULL, &err);                                                           \
            return false;                                                                          \
        }                                                                                          \
        return true;                                                                               \
    } while (0)

const char *weir_req_method(weir_request_t req) {
    filter_string_t ret;
    weir_filter_http_method_request_method(req_handle(req), &ret);
    return weir__take_string(&ret);
}

const char *weir_req_path(weir_request_t req) {
    filter_string_t ret;
    weir_filter_http_method_request_path(req_handle(req), &ret);
    return weir__take_string(&ret);
}

const char *weir_req_query(weir_request_t req) {
    filter_string_t ret;
    if (!weir_filter_http_method_request_query(req_handle(req), &ret)) return NULL;
    return weir__take_string(&ret);
}

const char *weir_req_header(weir_request_t req, const char *name) {
    filter_string_t n = weir__str(name);
    filter_list_u8_t ret;
    if (!weir_filter_http_method_request_header(req_handle(req), &n, &ret)) return NULL;
    return text_of(&ret);
}

bool weir_req_header_bytes(weir_request_t req, const char *name, weir_bytes_t *out) {
    filter_string_t n = weir__str(name);
    filter_list_u8_t ret;
    if (!weir_filter_http_method_request_header(req_handle(req), &n, &ret)) return false;
    *out = weir__take_bytes(&ret);
    return true;
}

bool weir_req_set_header_bytes(weir_request_t req, const char *name, weir_bytes_t value) {
    filter_string_t n = weir__str(name);
    filter_list_u8_t v = {(uint8_t *)value.ptr, value.len};
    EDIT(weir_filter_http_method_request_set_header(req_handle(req), &n, &v, &err));
}

bool weir_req_set_header(weir_request_t req, const char *name, const char *value) {
    return weir_req_set_header_bytes(req, name, (weir_bytes_t){(const uint8_t *)value, strlen(value)});
}

bool weir_req_append_header(weir_request_t req, const char *name, const char *value) {
    filter_string_t n = weir__str(name);
    filter_list_u8_t v = {(uint8_t *)value, strlen(value)};
    EDIT(weir_filter_http_method_request_append_header(req_handle(req), &n, &v, &err));
}

void weir_req_remove_header(weir_request_t req, const char *name) {
    filter_string_t n = weir__str(name);
    weir_filter_http_method_request_remove_header(req_handle(req), &n);
}

bool weir_req_set_path(weir_request_t req, const char *path) {
    filter_string_t p = weir__str(path);
    EDIT(weir_filter_http_method_request_set_path(req_handle(req), &p, &err));
}

bool weir_req_set_query(weir_request_t req, const char *query) {
    filter_string_t q = query ? weir__str(query) : (filter_string_t){0};
    EDIT(weir_filter_http_method_request_set_query(req_handle(req), query ? &q : NULL, &err));
}

bool weir_req_set_response_header_bytes(weir_request_t req, const char *name, weir_bytes_t value) {
    filter_string_t n = weir__str(name);
    filter_list_u8_t v = {(uint8_t *)value.ptr, value.len};
    EDIT(weir_filter_http_method_request_set_response_header(req_handle(req), &n, &v, &err));
}

bool weir_req_set_response_header(weir_request_t req, const char *name, const char *value) {
    return weir_req_set_response_header_bytes(req, name,
                                              (weir_bytes_t){(const uint8_t *)value, strlen(value)});
}

bool weir_req_append_response_header(weir_request_t req, const char *name, const char *value) {
    filter_string_t n = weir__str(name);
    filter_list_u8_t v = {(uint8_t *)value, strlen(value)};
    EDIT(weir_filter_http_method_request_append_response_header(req_handle(req), &n, &v, &err));
}

bool weir_req_remove_response_header(weir_request_t req, const char *name) {
    filter_string_t n = weir__str(name);
    EDIT(weir_filter_http_method_request_remove_response_header(req_handle(req), &n, &err));
}

const char *weir_req_client_ip(weir_request_t req) {
    filter_string_t ret;
    weir_filter_http_method_request_client_ip(req_handle(req), &ret);
    return weir__take_string(&ret);
}

const char *weir_req_id(weir_request_t req) {
    filter_string_t ret;
    weir_filter_http_method_request_id(req_handle(req), &ret);
    return weir__take_string(&ret);
}

uint16_t weir_resp_status(weir_response_t resp) {
    return weir_filter_http_method_response_status(resp_handle(resp));
}

bool weir_resp_set_status(weir_response_t resp, uint16_t status) {
    EDIT(weir_filter_http_method_response_set_status(resp_handle(resp), status, &err));
}

const char *weir_resp_header(weir_response_t resp, const char *name) {
    filter_string_t n = weir__str(name);
    filter_list_u8_t ret;
    if (!weir_filter_http_method_response_header(resp_handle(resp), &n, &ret)) return NULL;
    return text_of(&ret);
}

bool weir_resp_set_header(weir_response_t resp, const char *name, const char *value) {
    filter_string_t n = weir__str(name);
    filter_list_u8_t v = {(uint8_t *)value, strlen(value)};
    EDIT(weir_filter_http_method_response_set_header(resp_handle(resp), &n, &v, &err));
}

bool weir_resp_append_header(weir_response_t resp, const char *name, const char *value) {
    filter_string_t n = weir__str(name);
    filter_list_u8_t v = {(uint8_t *)value, strlen(value)};
    EDIT(weir_filter_http_method_response_append_header(resp_handle(resp), &n, &v, &err));
}

void weir_resp_remove_header(weir_response_t resp, const char *name) {
    filter_string_t n = weir__str(name);
    weir_filter_http_method_response_remove_header(resp_handle(resp), &n);
}

const char *weir_context_get(const char *key) {
    filter_string_t k = weir__str(key);
    filter_string_t ret;
    if (!weir_filter_context_get(&k, &ret)) return NULL;
    return weir__take_string(&ret);
}

void weir_context_set(const char *key, const char *value) {
    filter_string_t k = weir__str(key), v = weir__str(value);
    weir_filter_context_set(&k, &v);
}

void weir_context_remove(const char *key) {
    filter_string_t k = weir__str(key);
    weir_filter_context_remove(&k);
}

static const char *vformat(const char *format, va_list args) {
    va_list again;
    va_copy(again, args);
    int len = vsnprintf(NULL, 0, format, args);
    char *out = weir__alloc(len > 0 ? (size_t)len + 1 : 1);
    vsnprintf(out, len > 0 ? (size_t)len + 1 : 1, format, again);
    va_end(again);
    return out;
}

const char *weir_format(const char *format, ...) {
    va_list args;
    va_start(args, format);
    const char *out = vformat(format, args);
    va_end(args);
    return out;
}

void weir_log(weir_level_t level, const char *format, ...) {
    va_list args;
    va_start(args, format);
    filter_string_t message = weir__str(vformat(format, args));
    va_end(args);
    weir_filter_log_log((weir_filter_log_level_t)level, &message);
}
