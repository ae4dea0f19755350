#ifndef GH_CORE_SHARD_H
#define GH_CORE_SHARD_H

/*
 * Which of a structure's per-thread parts the calling thread writes. State every request
 * writes (counters, last uses) is kept in GH_SHARDS parts, each on cache lines of its own,
 * and summed or merged when read: the polling threads then never write the same line, so
 * no line moves between cores on every request. A polling thread pins its loop's number;
 * any other thread takes the next number the first time it asks. Two threads may share a
 * part (more threads than parts): every part stays safe for concurrent writers.
 */

#define GH_SHARDS 8 /* a power of two */

/** The calling thread's part, 0 .. GH_SHARDS - 1. */
unsigned gh_shard_self(void);

/** Makes the calling thread's part n % GH_SHARDS (the polling threads: their loop's number). */
void gh_shard_pin(unsigned n);

#endif
