#ifndef GH_STORE_STORE_TOKENS_H
#define GH_STORE_STORE_TOKENS_H

/*
 * The gh_store_* wrappers of the credential domains (refresh tokens, browser sessions,
 * second factors), kept apart from store.h for its size. Included by store.h only; the contracts
 * are above the ops.
 */
#ifndef GH_STORE_STORE_H
#error "include store/store.h"
#endif

/* ---- refresh tokens ---- */

static inline gh_err gh_store_refresh_get(const struct gh_store_handle *h,
                                          const unsigned char hash[GH_HASH_LEN], int64_t now,
                                          struct gh_refresh_token *out)
{
    return h->ops->refresh_get(h->st, hash, now, out);
}

static inline gh_err gh_store_refresh_insert(const struct gh_store_handle *h,
                                             const struct gh_refresh_token *t)
{
    return h->ops->refresh_insert(h->st, t);
}

static inline gh_err gh_store_refresh_rotate(const struct gh_store_handle *h,
                                             const unsigned char old_hash[GH_HASH_LEN],
                                             struct gh_refresh_token *next, int64_t now,
                                             struct gh_refresh_token *spent)
{
    return h->ops->refresh_rotate(h->st, old_hash, next, now, spent);
}

static inline gh_err gh_store_refresh_revoke(const struct gh_store_handle *h,
                                             const unsigned char hash[GH_HASH_LEN], int64_t now,
                                             struct gh_refresh_token *out)
{
    return h->ops->refresh_revoke(h->st, hash, now, out);
}

static inline gh_err gh_store_refresh_revoke_org(const struct gh_store_handle *h,
                                                 const char *org_id, const char *user_id,
                                                 int64_t now)
{
    return h->ops->refresh_revoke_org(h->st, org_id, user_id, now);
}

static inline gh_err gh_store_refresh_purge(const struct gh_store_handle *h, int64_t cutoff,
                                            int64_t *n)
{
    return h->ops->refresh_purge(h->st, cutoff, n);
}

/* ---- browser sessions ---- */

static inline gh_err gh_store_session_create(const struct gh_store_handle *h,
                                             const struct gh_session *s)
{
    return h->ops->session_create(h->st, s);
}

static inline gh_err gh_store_session_get(const struct gh_store_handle *h,
                                          const unsigned char hash[GH_HASH_LEN], int64_t now,
                                          struct gh_session *out)
{
    return h->ops->session_get(h->st, hash, now, out);
}

static inline gh_err gh_store_session_list(const struct gh_store_handle *h, const char *user_id,
                                           int64_t now, size_t limit, size_t offset,
                                           gh_session_visit_fn fn, void *arg)
{
    return h->ops->session_list(h->st, user_id, now, limit, offset, fn, arg);
}

static inline gh_err gh_store_session_touch(const struct gh_store_handle *h, const char *id,
                                            int64_t at)
{
    return h->ops->session_touch(h->st, id, at);
}

static inline gh_err gh_store_session_reauth(const struct gh_store_handle *h, const char *user_id,
                                             const char *id, int64_t at)
{
    return h->ops->session_reauth(h->st, user_id, id, at);
}

static inline gh_err gh_store_session_revoke(const struct gh_store_handle *h, const char *user_id,
                                             const char *id, int64_t now)
{
    return h->ops->session_revoke(h->st, user_id, id, now);
}

static inline gh_err gh_store_session_purge(const struct gh_store_handle *h, int64_t cutoff,
                                            int64_t *n)
{
    return h->ops->session_purge(h->st, cutoff, n);
}

/* ---- second factors ---- */

static inline gh_err gh_store_mfa_get(const struct gh_store_handle *h, const char *user_id,
                                      struct gh_mfa *out)
{
    return h->ops->mfa_get(h->st, user_id, out);
}

static inline gh_err gh_store_mfa_put(const struct gh_store_handle *h, const struct gh_mfa *m)
{
    return h->ops->mfa_put(h->st, m);
}

static inline gh_err gh_store_mfa_enable(const struct gh_store_handle *h, const char *user_id,
                                         int64_t step,
                                         const unsigned char codes[GH_BACKUP_CODES][GH_HASH_LEN])
{
    return h->ops->mfa_enable(h->st, user_id, step, codes);
}

static inline gh_err gh_store_mfa_use_step(const struct gh_store_handle *h, const char *user_id,
                                           int64_t step)
{
    return h->ops->mfa_use_step(h->st, user_id, step);
}

static inline gh_err gh_store_mfa_use_backup(const struct gh_store_handle *h, const char *user_id,
                                             const unsigned char hash[GH_HASH_LEN], int64_t now,
                                             int64_t *left)
{
    return h->ops->mfa_use_backup(h->st, user_id, hash, now, left);
}

static inline gh_err gh_store_mfa_delete(const struct gh_store_handle *h, const char *user_id)
{
    return h->ops->mfa_delete(h->st, user_id);
}

static inline gh_err gh_store_mfa_challenge_add(const struct gh_store_handle *h,
                                                const struct gh_mfa_challenge *c)
{
    return h->ops->mfa_challenge_add(h->st, c);
}

static inline gh_err gh_store_mfa_challenge_get(const struct gh_store_handle *h,
                                                const unsigned char hash[GH_HASH_LEN], int64_t now,
                                                struct gh_mfa_challenge *out)
{
    return h->ops->mfa_challenge_get(h->st, hash, now, out);
}

static inline gh_err gh_store_mfa_challenge_spend(const struct gh_store_handle *h,
                                                  const unsigned char hash[GH_HASH_LEN],
                                                  int64_t now)
{
    return h->ops->mfa_challenge_spend(h->st, hash, now);
}

#endif
