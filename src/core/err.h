#ifndef GH_CORE_ERR_H
#define GH_CORE_ERR_H

/*
 * The one result type of Gatehouse. Functions return a gh_err and set their output
 * parameters only when they return GH_OK.
 */
typedef enum gh_err {
    GH_OK = 0,        /* success */
    GH_ERR_NOMEM,     /* an allocation failed */
    GH_ERR_INVALID,   /* input malformed, ill-typed or out of range */
    GH_ERR_TOO_LARGE, /* input exceeds a configured bound */
    GH_ERR_NOT_FOUND, /* no such record */
    GH_ERR_CONFLICT,  /* a unique value is taken (username, email, name) */
    GH_ERR_AUTH,      /* credentials or signature do not match */
    GH_ERR_EXPIRED,   /* a token or record is past its lifetime */
    GH_ERR_NOT_YET,   /* a token is not valid yet (nbf in the future) */
    GH_ERR_REVOKED,   /* a credential was revoked */
    GH_ERR_REUSED,    /* a single-use credential was presented again */
    GH_ERR_POLICY,    /* a password breaks the password policy, and nothing else */
    GH_ERR_BUSY,      /* a bounded queue is full; retry later */
    GH_ERR_IO,        /* storage or filesystem failure */
    GH_ERR_CRYPTO,    /* a cryptographic library call failed */
    GH_ERR_FILE_MODE, /* a key or secret file is readable or writable by group or others */
    GH_ERR_FORBIDDEN, /* the caller is authenticated but lacks a permission the operation
                         needs (or would grant more than it holds: a role, a key's scopes) */
    GH_ERR_ADDRESS,   /* the client's address is not allowed (an API key bound to addresses) */
    GH_ERR_IMMUTABLE, /* a system row cannot change that way (a system role, the default org) */
    GH_ERR_INTERNAL,  /* a bug: an invariant did not hold */
} gh_err;

/** A short constant name for err ("invalid", "not_found"...), for logs. */
const char *gh_err_name(gh_err err);

#define GH_WUR __attribute__((warn_unused_result))
#define GH_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define GH_PRINTF(f, a) __attribute__((format(printf, f, a)))

#endif
