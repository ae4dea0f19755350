#include "authn/views.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "core/cache.h"
#include "core/text.h"
#include "core/time.h"

/*
 * How long the token check trusts its copy of a user's revocation state. Revocations made
 * through this process apply at once, those made elsewhere arrive through the revocation
 * feed within its poll interval; the TTL is only a backstop.
 */
#define USER_STATE_TTL 60
/* Feed entries are kept long enough for any node that polls to have seen them. */
#define REVOCATION_FEED_KEEP (24 * 3600)

struct gh_views {
    const struct gh_store_handle *store;
    unsigned char member_key[crypto_shorthash_siphashx24_KEYBYTES]; /* random, see member_key */
    struct gh_cache *user_state; /* user id -> struct gh_user_view */
    struct gh_cache *members;    /* member_key(user id, org id) -> struct cached_member */
    int64_t feed_seq;            /* last revocation feed entry seen */
    void (*publish)(void *arg, const char *user_id); /* tells the other nodes (NULL: none) */
    void *publish_arg;
    int64_t feed_purged_at; /* when old feed entries were last deleted */
};

/* A membership as the checks use it, valid while the user's view has generation gen. Cached
 * up to the end of its permissions (member_len): copies move a hundred bytes, not 2 KB. */
struct cached_member {
    uint64_t gen;
    struct gh_member_view m;
};
#define MEMBER_HEAD offsetof(struct cached_member, m.perms)

static size_t member_len(const struct cached_member *cm)
{
    return MEMBER_HEAD + strnlen(cm->m.perms, sizeof(cm->m.perms) - 1) + 1;
}

/* Numbers each loaded user view (see gh_user_view.gen). */
static atomic_uint_fast64_t view_gen;
/* Counts the views dropped (gh_views_forget): a view read from the store while one was
 * dropped may predate that revocation, so it is not left in the cache. */
static atomic_uint_fast64_t view_drops;

const char *gh_cred_name(enum gh_cred cred)
{
    switch (cred) {
    case GH_CRED_JWT:
        return "jwt";
    case GH_CRED_API_KEY:
        return "api_key";
    case GH_CRED_OPERATOR:
        return "operator";
    case GH_CRED_SESSION:
        return "session";
    }
    return "unknown";
}

void gh_identity_init(struct gh_identity *id)
{
    memset(id, 0, offsetof(struct gh_identity, roles));
    id->roles[0] = id->perms[0] = '\0';
    memset(&id->expires_at, 0, sizeof(*id) - offsetof(struct gh_identity, expires_at));
}

gh_err gh_views_new(const struct gh_store_handle *store, size_t users, struct gh_views **out)
{
    struct gh_views *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return GH_ERR_NOMEM;
    v->store = store;
    gh_err err;
    randombytes_buf(v->member_key, sizeof(v->member_key));
    if ((err = gh_cache_new(users, &v->user_state)) != GH_OK ||
        (err = gh_cache_new(users, &v->members)) != GH_OK ||
        (err = gh_store_revocation_feed(store, -1, 0, NULL, NULL, &v->feed_seq)) != GH_OK) {
        gh_views_free(v);
        return err;
    }
    *out = v;
    return GH_OK;
}

void gh_views_free(struct gh_views *v)
{
    if (v == NULL)
        return;
    gh_cache_free(v->user_state);
    gh_cache_free(v->members);
    sodium_memzero(v->member_key, sizeof(v->member_key));
    free(v);
}

void gh_views_remember(struct gh_views *v, const struct gh_user *u, struct gh_user_view *out)
{
    struct gh_user_view s;
    memset(&s, 0, sizeof(s));
    s.epoch = u->token_epoch;
    s.disabled = u->disabled;
    s.gen = atomic_fetch_add(&view_gen, 1) + 1;
    s.superadmin = u->superadmin;
    memcpy(s.username, u->username, sizeof(s.username));
    (void)gh_cache_put(v->user_state, u->id, strlen(u->id), &s, sizeof(s),
                       gh_time_now() + USER_STATE_TTL);
    if (out != NULL)
        *out = s;
}

/* After a revocation: the next check reloads the user, and no cached token survives it. */
void gh_views_drop(struct gh_views *v, const char *user_id)
{
    atomic_fetch_add(&view_drops, 1);
    gh_cache_del(v->user_state, user_id, strlen(user_id));
}

void gh_views_forget(struct gh_views *v, const char *user_id)
{
    gh_views_drop(v, user_id);
    if (v->publish != NULL)
        v->publish(v->publish_arg, user_id);
}

void gh_views_set_publish(struct gh_views *v, void (*publish)(void *arg, const char *user_id),
                          void *arg)
{
    v->publish = publish;
    v->publish_arg = arg;
}

static void forget_cb(void *arg, const char *user_id)
{
    gh_views_drop(arg, user_id);
}

gh_err gh_views_watch(struct gh_views *v)
{
    const struct gh_store_handle *store = v->store;
    int64_t now = gh_time_now();
    int64_t purge_before = 0;
    if (now - v->feed_purged_at > 600) {
        /* Every ten minutes: old feed entries, refresh tokens a day past expiry (kept that
         * long so a late reuse is still recognised as reuse) and dead invitations. */
        int64_t purged = 0;
        purge_before = now - REVOCATION_FEED_KEEP;
        v->feed_purged_at = now;
        gh_err err = gh_store_refresh_purge(store, now - 24 * 3600, &purged);
        if (err == GH_OK) /* answered or expired invitations, likewise a day late */
            err = gh_store_invitation_purge(store, now - 24 * 3600, &purged);
        if (err != GH_OK)
            return err;
    }
    return gh_store_revocation_feed(store, v->feed_seq, purge_before, forget_cb, v, &v->feed_seq);
}

gh_err gh_views_user(struct gh_views *v, const char *user_id, int64_t now, struct gh_user_view *out)
{
    size_t len = 0;
    if (gh_cache_get(v->user_state, user_id, strlen(user_id), now, out, sizeof(*out), &len) ==
            GH_OK &&
        len == sizeof(*out))
        return GH_OK;
    struct gh_user u;
    uint_fast64_t drops = atomic_load(&view_drops);
    gh_err err = gh_store_user_get(v->store, user_id, &u);
    if (err == GH_ERR_NOT_FOUND)
        return GH_ERR_REVOKED; /* deleted */
    if (err != GH_OK)
        return err;
    gh_views_remember(v, &u, out);
    /*
     * A revocation writes the store, then drops the view. If one dropped a view between
     * the read above and now, the view just cached may be older than it: drop it again.
     * Either this sees that drop's count, or the drop comes after the put and removes it.
     * (This request may still pass on what it read: it overlapped the revocation.)
     */
    if (atomic_load(&view_drops) != drops)
        gh_cache_del(v->user_state, user_id, strlen(user_id));
    return GH_OK;
}

/* The cache key of a membership: the two ids (74 bytes would not fit a key) under a keyed
 * SipHash-128, which tells pairs apart where no one can compute it at a quarter of the
 * cost of SHA-256 through EVP. */
static void member_key(const struct gh_views *v, const char *user_id, const char *org_id,
                       unsigned char key[crypto_shorthash_siphashx24_BYTES])
{
    char both[2 * (GH_UUID_LEN + 1)];
    size_t u = strnlen(user_id, GH_UUID_LEN), o = strnlen(org_id, GH_UUID_LEN);
    memcpy(both, user_id, u);
    both[u] = '\0';
    memcpy(both + u + 1, org_id, o);
    crypto_shorthash_siphashx24(key, (const unsigned char *)both, u + 1 + o, v->member_key);
}

gh_err gh_views_member(struct gh_views *v, const char *user_id, const char *org_id,
                       const struct gh_user_view *view, int64_t now, struct gh_member_view *out)
{
    struct cached_member cm;
    struct gh_membership m;
    unsigned char key[crypto_shorthash_siphashx24_BYTES];
    size_t len = 0;
    member_key(v, user_id, org_id, key);
    if (gh_cache_get(v->members, key, sizeof(key), now, &cm, sizeof(cm), &len) == GH_OK &&
        len > MEMBER_HEAD && cm.gen == view->gen && ((char *)&cm)[len - 1] == '\0') {
        memcpy(out, &cm.m, len - offsetof(struct cached_member, m));
        return GH_OK;
    }
    gh_err err = gh_store_member_get(v->store, org_id, user_id, &m);
    if (err != GH_OK)
        return err;
    memset(&cm, 0, sizeof(cm));
    cm.gen = view->gen;
    cm.m.epoch = m.epoch;
    if (gh_copy_field(cm.m.role, sizeof(cm.m.role), m.role_name) != GH_OK ||
        gh_copy_field(cm.m.perms, sizeof(cm.m.perms), m.permissions) != GH_OK)
        return GH_ERR_INTERNAL;
    (void)gh_cache_put(v->members, key, sizeof(key), &cm, member_len(&cm), now + USER_STATE_TTL);
    *out = cm.m;
    return GH_OK;
}

gh_err gh_views_membership(struct gh_views *v, const char *user_id, const char *org_id,
                           struct gh_member_view *out)
{
    struct gh_user_view view;
    int64_t now = gh_time_now();
    gh_err err = gh_views_user(v, user_id, now, &view);
    if (err == GH_ERR_REVOKED)
        return GH_ERR_NOT_FOUND;
    if (err != GH_OK)
        return err;
    return gh_views_member(v, user_id, org_id, &view, now, out);
}
