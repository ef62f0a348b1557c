// The exports of the `filter` world: each one converts weir's values into the
// SDK's, calls the filter's callback, converts its decision back and frees the
// callback's arena.
#include <stdlib.h>
#include <string.h>

#include "weir_internal.h"

static const weir_log_info_t *log_info_view(filter_log_info_t *info, weir_log_info_t *view);

bool exports_filter_init(filter_string_t *config, filter_phases_t *ret, filter_string_t *err) {
    const weir_filter_t *f = &weir_filter;
    const char *error = NULL;
    if (f->init != NULL) {
        weir_config_t view = {weir__take_string(config)};
        error = f->init(view);
    } else {
        filter_string_free(config);
    }
    if (error != NULL) {
        filter_string_dup(err, error);
        weir__release();
        return false;
    }
    weir__release();
    *ret = (f->on_request_headers ? WEIR_FILTER_TYPES_PHASES_REQUEST_HEADERS : 0) |
           (f->on_request_body ? WEIR_FILTER_TYPES_PHASES_REQUEST_BODY : 0) |
           (f->on_response_headers ? WEIR_FILTER_TYPES_PHASES_RESPONSE_HEADERS : 0) |
           (f->on_response_body ? WEIR_FILTER_TYPES_PHASES_RESPONSE_BODY : 0) |
           (f->on_log ? WEIR_FILTER_TYPES_PHASES_LOG : 0);
    return true;
}

// The host frees what an export returns (post-return): fresh malloc'd copies.
static filter_list_u8_t copy_bytes(weir_bytes_t bytes) {
    filter_list_u8_t out = {malloc(bytes.len ? bytes.len : 1), bytes.len};
    if (bytes.len) memcpy(out.ptr, bytes.ptr, bytes.len);
    return out;
}

static weir_filter_types_response_t to_response(const weir_decision_t *d) {
    weir_filter_types_response_t r = {.status = d->status};
    r.headers.len = d->header_count;
    r.headers.ptr = malloc((d->header_count ? d->header_count : 1) * sizeof(weir_filter_types_header_t));
    for (size_t i = 0; i < d->header_count; i++) {
        filter_string_dup(&r.headers.ptr[i].f0, d->header_names[i]);
        r.headers.ptr[i].f1 = copy_bytes(d->header_values[i]);
    }
    r.body = copy_bytes(d->body);
    return r;
}

static weir_request_t request_of(filter_borrow_request_t req) { return (weir_request_t)req.__handle; }
static weir_response_t response_of(filter_borrow_response_t resp) { return (weir_response_t)resp.__handle; }

// A borrowed handle lent to an export must be dropped before it returns (the
// component model's rule; weir traps otherwise).
static void done(filter_borrow_request_t req, const filter_borrow_response_t *resp) {
    weir_filter_http_request_drop_borrow(req);
    if (resp != NULL) weir_filter_http_response_drop_borrow(*resp);
    weir__release();
}

static void header_decision(weir_decision_t d, filter_decision_t *ret) {
    if (d.kind == WEIR_RESPOND) {
        ret->tag = WEIR_FILTER_TYPES_DECISION_RESPOND;
        ret->val.respond = to_response(&d);
    } else {
        ret->tag = WEIR_FILTER_TYPES_DECISION_CONTINUE;
    }
}

void exports_filter_on_request_headers(filter_borrow_request_t req, filter_decision_t *ret) {
    header_decision(weir_filter.on_request_headers(request_of(req)), ret);
    done(req, NULL);
}

void exports_filter_on_request_body(filter_borrow_request_t req, filter_list_u8_t *body,
                                    filter_request_body_decision_t *ret) {
    weir_decision_t d = weir_filter.on_request_body(request_of(req), weir__take_bytes(body));
    if (d.kind == WEIR_RESPOND) {
        ret->tag = WEIR_FILTER_TYPES_REQUEST_BODY_DECISION_RESPOND;
        ret->val.respond = to_response(&d);
    } else if (d.kind == WEIR_REPLACE) {
        ret->tag = WEIR_FILTER_TYPES_REQUEST_BODY_DECISION_REPLACE;
        ret->val.replace = copy_bytes(d.body);
    } else {
        ret->tag = WEIR_FILTER_TYPES_REQUEST_BODY_DECISION_CONTINUE;
    }
    done(req, NULL);
}

void exports_filter_on_response_headers(filter_borrow_request_t req, filter_borrow_response_t resp,
                                        filter_decision_t *ret) {
    header_decision(weir_filter.on_response_headers(request_of(req), response_of(resp)), ret);
    done(req, &resp);
}

void exports_filter_on_response_body(filter_borrow_request_t req, filter_borrow_response_t resp,
                                     filter_list_u8_t *body, filter_response_body_decision_t *ret) {
    weir_decision_t d =
        weir_filter.on_response_body(request_of(req), response_of(resp), weir__take_bytes(body));
    if (d.kind == WEIR_REPLACE) {
        ret->tag = WEIR_FILTER_TYPES_RESPONSE_BODY_DECISION_REPLACE;
        ret->val.replace = copy_bytes(d.body);
    } else {
        ret->tag = WEIR_FILTER_TYPES_RESPONSE_BODY_DECISION_CONTINUE;
    }
    done(req, &resp);
}

void exports_filter_on_log(filter_borrow_request_t req, filter_borrow_response_t resp, filter_log_info_t *info) {
    weir_log_info_t view;
    weir_filter.on_log(request_of(req), response_of(resp), log_info_view(info, &view));
    filter_log_info_free(info);
    done(req, &resp);
}

static const char *option_text(filter_option_string_t *s) {
    if (!s->is_some) return NULL;
    char *out = weir__alloc(s->val.len + 1);
    memcpy(out, s->val.ptr, s->val.len);
    out[s->val.len] = 0;
    return out;
}

static const weir_log_info_t *log_info_view(filter_log_info_t *info, weir_log_info_t *view) {
    *view = (weir_log_info_t){
        .status = info->status,
        .duration_us = info->duration_us,
        .request_body_bytes = info->request_body_bytes,
        .response_body_bytes = info->response_body_bytes,
        .upstream_target = option_text(&info->upstream_target),
        .route = option_text(&info->route),
        .error = option_text(&info->error),
    };
    return view;
}

// ---- Decisions ----

weir_decision_t weir_continue(void) { return (weir_decision_t){.kind = WEIR_CONTINUE}; }

weir_decision_t weir_respond(uint16_t status) {
    return (weir_decision_t){.kind = WEIR_RESPOND, .status = status};
}

void weir_respond_header(weir_decision_t *d, const char *name, const char *value) {
    // Arena arrays grown by one: responses carry a handful of headers.
    size_t n = d->header_count + 1;
    const char **names = weir__alloc(n * sizeof(char *));
    weir_bytes_t *values = weir__alloc(n * sizeof(weir_bytes_t));
    if (d->header_count) {
        memcpy(names, d->header_names, d->header_count * sizeof(char *));
        memcpy(values, d->header_values, d->header_count * sizeof(weir_bytes_t));
    }
    size_t len = strlen(value);
    uint8_t *copy = weir__alloc(len);
    memcpy(copy, value, len);
    names[d->header_count] = strcpy(weir__alloc(strlen(name) + 1), name);
    values[d->header_count] = (weir_bytes_t){copy, len};
    d->header_names = names;
    d->header_values = values;
    d->header_count = n;
}

void weir_respond_body(weir_decision_t *d, const void *body, size_t len) {
    uint8_t *copy = weir__alloc(len);
    if (len) memcpy(copy, body, len);
    d->body = (weir_bytes_t){copy, len};
}

weir_decision_t weir_respond_text(uint16_t status, const char *body) {
    weir_decision_t d = weir_respond(status);
    weir_respond_header(&d, "content-type", "text/plain; charset=utf-8");
    weir_respond_body(&d, body, strlen(body));
    return d;
}

weir_decision_t weir_replace(const void *body, size_t len) {
    weir_decision_t d = {.kind = WEIR_REPLACE};
    weir_respond_body(&d, body, len);
    return d;
}
