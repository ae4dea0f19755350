#include "core/shard.h"

#include <stdatomic.h>

/* Threads that did not pin a part count down from the last one, away from the loops'. */
static atomic_uint next_unpinned;
static _Thread_local unsigned mine; /* the part + 1; 0: not chosen yet */

unsigned gh_shard_self(void)
{
    if (mine == 0)
        mine = GH_SHARDS - atomic_fetch_add(&next_unpinned, 1) % GH_SHARDS;
    return mine - 1;
}

void gh_shard_pin(unsigned n)
{
    mine = n % GH_SHARDS + 1;
}
