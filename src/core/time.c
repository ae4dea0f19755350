#include "core/time.h"

#include <time.h>

gh_err gh_time_format(int64_t t, char out[GH_TIME_TEXT])
{
    struct tm tm;
    time_t tt = (time_t)t;
    out[0] = '\0';
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, GH_TIME_TEXT, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        out[0] = '\0';
        return GH_ERR_INVALID;
    }
    return GH_OK;
}

int64_t gh_time_now(void)
{
    return (int64_t)time(NULL);
}
