/*
 * ax_crc32c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of Prometheus' WAL fragments, chunk files and index sections.
 * Uses the SSE4.2 crc32 instruction when the CPU has it, a slicing table
 * otherwise.  Thread-safe.
 */
#ifndef AX_CRC32C_H
#define AX_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc (start with 0) over data[0..n). */
uint32_t ax_crc32c(uint32_t crc, const void *data, size_t n);

#endif
