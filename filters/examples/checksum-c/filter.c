// checksum-c: request body integrity. A client that sends
// `x-body-checksum: sha256=<hex>` gets 400 when the body it sent does not hash
// to it, so a body corrupted or cut on the way never reaches the upstream.
// (A checksum of the *response* body cannot go in a header: weir sends the
// response headers before the body phase sees the body.) With
// `require: true`, requests with a body but without the header get 400 too.
//
// Config: { "header": "x-body-checksum", "require": false } (both optional).
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "sha256.h"
#include "weir_filter.h"

static char *header_name;
static bool require_checksum;

static const char *init(weir_config_t config) {
    const char *error = NULL;
    const char *name = weir_config_string_or(config, "header", "x-body-checksum", &error);
    if (name == NULL) return error;
    header_name = strdup(name);
    const char *require = weir_config_raw(config, "require");
    if (require != NULL && strcmp(require, "true") != 0 && strcmp(require, "false") != 0) {
        return "config field \"require\": expected true or false";
    }
    require_checksum = require != NULL && strcmp(require, "true") == 0;
    return NULL;
}

static weir_decision_t bad_request(const char *why) {
    weir_log_debug("refused: %s", why);
    return weir_respond_text(400, why);
}

static weir_decision_t on_request_body(weir_request_t req, weir_bytes_t body) {
    const char *claimed = weir_req_header(req, header_name);
    if (claimed == NULL) {
        if (require_checksum && body.len > 0) {
            return bad_request(weir_format("missing %s header (sha256=<hex>)", header_name));
        }
        return weir_continue();
    }
    uint8_t digest[32];
    sha256(body.ptr, body.len, digest);
    char hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    // sha256=<hex>, hex in either case.
    if (strncmp(claimed, "sha256=", 7) != 0 || strlen(claimed) != 7 + 64) {
        return bad_request(weir_format("%s: expected sha256=<64 hex digits>", header_name));
    }
    for (int i = 0; i < 64; i++) {
        if (tolower((unsigned char)claimed[7 + i]) != hex[i]) {
            return bad_request(weir_format("%s does not match the body (sha256=%s)", header_name, hex));
        }
    }
    return weir_continue();
}

WEIR_EXPORT_FILTER(.init = init, .on_request_body = on_request_body)
