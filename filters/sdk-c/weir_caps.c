// Capabilities: key-value stores and secrets. A filter that calls none of
// these functions does not import the capability (the linker drops them).
#include <string.h>

#include "weir_internal.h"

static weir_filter_key_value_borrow_store_t store_handle(weir_kv_store_t store) {
    return (weir_filter_key_value_borrow_store_t){(int32_t)store};
}

static void kv_error(weir_filter_key_value_error_t *err) {
    static const char *kinds[] = {"not granted", "unavailable", "invalid"};
    // Every case of the variant carries a string at the same place.
    weir__set_error(kinds[err->tag], &err->val.not_granted);
}

static uint64_t *ttl(uint64_t *slot, uint64_t ttl_ms) {
    *slot = ttl_ms;
    return ttl_ms ? slot : NULL;
}

bool weir_kv_open(const char *name, weir_kv_store_t *store) {
    filter_string_t n = weir__str(name);
    weir_filter_key_value_own_store_t own;
    weir_filter_key_value_error_t err;
    if (!weir_filter_key_value_static_store_open(&n, &own, &err)) {
        kv_error(&err);
        return false;
    }
    // The instance keeps the store: it is never dropped.
    *store = (weir_kv_store_t)weir_filter_key_value_borrow_store(own).__handle;
    return true;
}

bool weir_kv_get(weir_kv_store_t store, const char *key, weir_bytes_t *value, bool *found) {
    filter_string_t k = weir__str(key);
    filter_option_list_u8_t ret;
    weir_filter_key_value_error_t err;
    if (!weir_filter_key_value_method_store_get(store_handle(store), &k, &ret, &err)) {
        kv_error(&err);
        return false;
    }
    *found = ret.is_some;
    *value = ret.is_some ? weir__take_bytes(&ret.val) : (weir_bytes_t){0};
    return true;
}

bool weir_kv_set(weir_kv_store_t store, const char *key, weir_bytes_t value, uint64_t ttl_ms) {
    filter_string_t k = weir__str(key);
    filter_list_u8_t v = {(uint8_t *)value.ptr, value.len};
    uint64_t slot;
    weir_filter_key_value_error_t err;
    if (!weir_filter_key_value_method_store_set(store_handle(store), &k, &v, ttl(&slot, ttl_ms), &err)) {
        kv_error(&err);
        return false;
    }
    return true;
}

bool weir_kv_delete(weir_kv_store_t store, const char *key, bool *was_set) {
    filter_string_t k = weir__str(key);
    weir_filter_key_value_error_t err;
    if (!weir_filter_key_value_method_store_delete(store_handle(store), &k, was_set, &err)) {
        kv_error(&err);
        return false;
    }
    return true;
}

bool weir_kv_increment(weir_kv_store_t store, const char *key, int64_t delta, uint64_t ttl_ms,
                       int64_t *value) {
    filter_string_t k = weir__str(key);
    uint64_t slot;
    weir_filter_key_value_error_t err;
    if (!weir_filter_key_value_method_store_increment(store_handle(store), &k, delta, ttl(&slot, ttl_ms),
                                                      value, &err)) {
        kv_error(&err);
        return false;
    }
    return true;
}

bool weir_kv_compare_and_swap(weir_kv_store_t store, const char *key, const weir_bytes_t *expected,
                              weir_bytes_t value, uint64_t ttl_ms, bool *swapped) {
    filter_string_t k = weir__str(key);
    filter_list_u8_t v = {(uint8_t *)value.ptr, value.len};
    filter_list_u8_t e = expected ? (filter_list_u8_t){(uint8_t *)expected->ptr, expected->len}
                                  : (filter_list_u8_t){0};
    uint64_t slot;
    weir_filter_key_value_error_t err;
    if (!weir_filter_key_value_method_store_compare_and_swap(store_handle(store), &k, expected ? &e : NULL,
                                                             &v, ttl(&slot, ttl_ms), swapped, &err)) {
        kv_error(&err);
        return false;
    }
    return true;
}

bool weir_kv_throttle(weir_kv_store_t store, const char *key, uint64_t limit, uint64_t window_ms,
                      uint64_t cost, weir_throttled_t *out) {
    filter_string_t k = weir__str(key);
    weir_filter_key_value_quota_t quota = {limit, window_ms};
    weir_filter_key_value_throttled_t ret;
    weir_filter_key_value_error_t err;
    if (!weir_filter_key_value_method_store_throttle(store_handle(store), &k, &quota, cost, &ret, &err)) {
        kv_error(&err);
        return false;
    }
    *out = (weir_throttled_t){ret.allowed, ret.remaining, ret.retry_after_ms, ret.reset_after_ms};
    return true;
}

bool weir_secret_get(const char *name, weir_bytes_t *value) {
    filter_string_t n = weir__str(name);
    filter_list_u8_t ret;
    filter_string_t err;
    if (!weir_filter_secrets_get(&n, &ret, &err)) {
        weir__set_error(NULL, &err);
        return false;
    }
    *value = weir__take_bytes(&ret);
    return true;
}
