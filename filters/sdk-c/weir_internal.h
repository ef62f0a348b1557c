// Internals shared by the SDK's files; not for filters.
#ifndef WEIR_INTERNAL_H
#define WEIR_INTERNAL_H

#include <stddef.h>

#include "weir_filter.h"

// Memory that lives until the current callback returns.
void *weir__alloc(size_t size);
// Hands memory from malloc to the callback's arena.
void *weir__track(void *ptr);
// Frees the callback's arena; called by the SDK when a callback returns.
void weir__release(void);

#endif

#include "filter.h"

// A borrowed view of a C string, for arguments of imported functions.
filter_string_t weir__str(const char *s);
// A NUL-terminated arena copy of a string the host returned; frees the original.
const char *weir__take_string(filter_string_t *s);
// An arena copy of bytes the host returned; frees the original.
weir_bytes_t weir__take_bytes(filter_list_u8_t *bytes);
// Records the reason of a failure for weir_last_error (takes the string).
void weir__set_error(const char *prefix, filter_string_t *message);
