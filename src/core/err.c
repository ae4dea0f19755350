#include "core/err.h"

const char *gh_err_name(gh_err err)
{
    switch (err) {
    case GH_OK:
        return "ok";
    case GH_ERR_NOMEM:
        return "nomem";
    case GH_ERR_INVALID:
        return "invalid";
    case GH_ERR_TOO_LARGE:
        return "too_large";
    case GH_ERR_NOT_FOUND:
        return "not_found";
    case GH_ERR_CONFLICT:
        return "conflict";
    case GH_ERR_AUTH:
        return "auth";
    case GH_ERR_EXPIRED:
        return "expired";
    case GH_ERR_NOT_YET:
        return "not_yet";
    case GH_ERR_REVOKED:
        return "revoked";
    case GH_ERR_REUSED:
        return "reused";
    case GH_ERR_POLICY:
        return "policy";
    case GH_ERR_BUSY:
        return "busy";
    case GH_ERR_IO:
        return "io";
    case GH_ERR_CRYPTO:
        return "crypto";
    case GH_ERR_FILE_MODE:
        return "file_mode";
    case GH_ERR_FORBIDDEN:
        return "forbidden";
    case GH_ERR_ADDRESS:
        return "address";
    case GH_ERR_IMMUTABLE:
        return "immutable";
    case GH_ERR_INTERNAL:
        return "internal";
    }
    return "unknown";
}
