#ifndef CHECKSUM_SHA256_H
#define CHECKSUM_SHA256_H

#include <stddef.h>
#include <stdint.h>

// The SHA-256 digest of `len` bytes at `data` into `out`.
void sha256(const uint8_t *data, size_t len, uint8_t out[32]);

#endif
