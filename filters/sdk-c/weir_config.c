// Reading top-level fields of the filter's JSON config: enough for the flat
// configs filters take, without a JSON library (none ships with wasi-libc).
// weir hands over JSON it serialized itself, so the text is well-formed.
#include <stdlib.h>
#include <string.h>

#include "weir_filter.h"
#include "weir_internal.h"

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

// The end of the string starting at the quote `p`.
static const char *skip_string(const char *p) {
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) p++;
    }
    return *p ? p + 1 : p;
}

// The end of the JSON value starting at `p`.
static const char *skip_value(const char *p) {
    if (*p == '"') return skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p) {
            if (*p == '"') {
                p = skip_string(p);
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return p;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n') p++;
    return p;
}

// The start of the value of `key` in the top-level object, or NULL.
static const char *find_field(const char *json, const char *key) {
    const char *p = skip_space(json);
    if (*p != '{') return NULL;
    p = skip_space(p + 1);
    size_t key_len = strlen(key);
    while (*p == '"') {
        const char *name_end = skip_string(p);
        bool match = (size_t)(name_end - p - 2) == key_len && strncmp(p + 1, key, key_len) == 0;
        p = skip_space(name_end);
        if (*p != ':') return NULL;
        p = skip_space(p + 1);
        if (match) return p;
        p = skip_space(skip_value(p));
        if (*p != ',') return NULL;
        p = skip_space(p + 1);
    }
    return NULL;
}

// Decodes the JSON string at `p` (escapes included; \u to UTF-8).
static char *decode_string(const char *p) {
    const char *end = skip_string(p);
    char *out = weir__alloc((size_t)(end - p) + 1);
    char *o = out;
    for (p++; p < end - 1; p++) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        p++;
        switch (*p) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            unsigned code = (unsigned)strtoul((char[]){p[1], p[2], p[3], p[4], 0}, NULL, 16);
            p += 4;
            if (code < 0x80) {
                *o++ = (char)code;
            } else if (code < 0x800) {
                *o++ = (char)(0xc0 | code >> 6);
                *o++ = (char)(0x80 | (code & 0x3f));
            } else {
                *o++ = (char)(0xe0 | code >> 12);
                *o++ = (char)(0x80 | ((code >> 6) & 0x3f));
                *o++ = (char)(0x80 | (code & 0x3f));
            }
            break;
        }
        default: *o++ = *p;
        }
    }
    *o = 0;
    return out;
}

static bool given(weir_config_t config) {
    const char *p = skip_space(config.json);
    return strncmp(p, "null", 4) != 0;
}

const char *weir_config_string_or(weir_config_t config, const char *key, const char *fallback,
                                  const char **error) {
    const char *value = find_field(config.json, key);
    if (value == NULL || strncmp(value, "null", 4) == 0) return fallback;
    if (*value != '"') {
        *error = weir_format("config field \"%s\": expected a string", key);
        return NULL;
    }
    return decode_string(value);
}

const char *weir_config_string(weir_config_t config, const char *key, const char **error) {
    if (!given(config)) {
        *error = weir_format("no `config` given (config field \"%s\" is required)", key);
        return NULL;
    }
    const char *value = weir_config_string_or(config, key, NULL, error);
    if (value == NULL && find_field(config.json, key) == NULL) {
        *error = weir_format("config field \"%s\" is required", key);
    }
    return value;
}

bool weir_config_number(weir_config_t config, const char *key, double *out, const char **error) {
    const char *value = find_field(config.json, key);
    if (value == NULL) {
        *error = given(config) ? weir_format("config field \"%s\" is required", key)
                               : weir_format("no `config` given (config field \"%s\" is required)", key);
        return false;
    }
    char *end;
    *out = strtod(value, &end);
    if (end == value) {
        *error = weir_format("config field \"%s\": expected a number", key);
        return false;
    }
    return true;
}

const char *weir_config_raw(weir_config_t config, const char *key) {
    const char *value = find_field(config.json, key);
    if (value == NULL) return NULL;
    size_t len = (size_t)(skip_value(value) - value);
    char *out = weir__alloc(len + 1);
    memcpy(out, value, len);
    out[len] = 0;
    return out;
}
