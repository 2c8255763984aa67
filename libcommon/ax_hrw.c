/*
 * ax_hrw: rendezvous hashing (see ax_hrw.h for the rule and the weight).
 */
#include "ax_hrw.h"

#include <string.h>

#include "ax_hmap.h"

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t ax_hrw_key(const char *key, size_t len)
{
	return ax_hash_bytes(key, len);
}

uint64_t ax_hrw_weight(const char *member, uint64_t key_hash)
{
	return splitmix64(
	    key_hash ^ splitmix64(ax_hash_bytes(member, strlen(member))));
}

long ax_hrw_owner(const char *const *members, size_t n, uint64_t key_hash)
{
	long best = -1;
	uint64_t bw = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t w = ax_hrw_weight(members[i], key_hash);

		if (best < 0 || w > bw ||
		    (w == bw && strcmp(members[i], members[best]) < 0)) {
			best = (long)i;
			bw = w;
		}
	}
	return best;
}
