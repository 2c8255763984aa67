/*
 * ax_hrw: rendezvous (highest-random-weight) hashing, the rule that gives
 * each scrape target to exactly one live scraper.
 *
 * The owner of a key among a set of members is the member whose weight
 * w(member, key) is highest.  Every party that knows the same member set
 * computes the same owner with no coordination; adding a member moves
 * about 1/(n+1) of the keys (only to the newcomer), and removing one
 * moves only the keys it owned.  axon-discoverer uses it to show who
 * scrapes what; axon-scraper uses it, with the member list the discoverer
 * hands out in heartbeat replies, to decide what to scrape.
 *
 * The key of a target is its discovered __address__ (before relabeling),
 * so the discoverer can compute it for the targets it publishes.
 *
 * The weight is splitmix64(hash(key) ^ splitmix64(hash(member))), with
 * ax_hash_bytes as hash: stable across processes, versions and hosts.
 */
#ifndef AX_HRW_H
#define AX_HRW_H

#include <stddef.h>
#include <stdint.h>

/* Weight of member for a key already hashed with ax_hrw_key. */
uint64_t ax_hrw_weight(const char *member, uint64_t key_hash);

/* Hash of a key (e.g. an address), for ax_hrw_weight/ax_hrw_owner. */
uint64_t ax_hrw_key(const char *key, size_t len);

/*
 * Index of the owner of key_hash among members[0..n) (borrowed), or -1
 * when n is 0.  Ties (practically impossible) go to the smaller name.
 */
long ax_hrw_owner(const char *const *members, size_t n, uint64_t key_hash);

#endif
