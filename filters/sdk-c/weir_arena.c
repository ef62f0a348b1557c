// The per-callback arena: what the SDK hands out is freed when the callback
// returns, so filters never free the SDK's strings themselves.
#include <stdlib.h>

#include "weir_internal.h"

static void **tracked;
static size_t tracked_len, tracked_cap;

void *weir__track(void *ptr) {
    if (ptr == NULL) return NULL;
    if (tracked_len == tracked_cap) {
        tracked_cap = tracked_cap ? tracked_cap * 2 : 16;
        tracked = realloc(tracked, tracked_cap * sizeof(void *));
        if (tracked == NULL) abort();
    }
    tracked[tracked_len++] = ptr;
    return ptr;
}

void *weir__alloc(size_t size) {
    void *ptr = malloc(size ? size : 1);
    if (ptr == NULL) abort();
    return weir__track(ptr);
}

void weir__release(void) {
    for (size_t i = 0; i < tracked_len; i++) free(tracked[i]);
    tracked_len = 0;
}
