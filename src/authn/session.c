#include "authn/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "core/cache.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "crypto/b64url.h"

struct gh_sessions {
    struct gh_session_opts o;
    const struct gh_store_handle *store;
    struct gh_views *views;
    struct gh_cache *cache; /* sid text -> struct cached (see sid_ok) */
    EVP_MD *sha256;         /* fetched once: SHA256() fetches it on every call */
    unsigned char key[GH_SESSION_KEY_LEN];
};

/* What the cache keeps of a session: whose, where, until when, under which user view. */
struct cached {
    char id[GH_UUID_LEN + 1];
    char user_id[GH_UUID_LEN + 1];
    char org_id[GH_UUID_LEN + 1];
    int64_t last_seen_at;
    int64_t expires_at;
    int64_t auth_time;
    uint64_t gen;
};

gh_err gh_sessions_new(const struct gh_session_opts *opts, const struct gh_store_handle *store,
                       struct gh_views *views, const unsigned char key[GH_SESSION_KEY_LEN],
                       struct gh_sessions **out)
{
    struct gh_sessions *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return GH_ERR_NOMEM;
    s->o = *opts;
    s->store = store;
    s->views = views;
    memcpy(s->key, key, sizeof(s->key));
    gh_err err = gh_cache_new(opts->cache_size ? opts->cache_size : 1, &s->cache);
    if (err == GH_OK && (s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
        err = GH_ERR_CRYPTO;
    if (err != GH_OK) {
        gh_sessions_free(s);
        return err;
    }
    *out = s;
    return GH_OK;
}

void gh_sessions_free(struct gh_sessions *s)
{
    if (s == NULL)
        return;
    gh_cache_free(s->cache);
    EVP_MD_free(s->sha256);
    sodium_memzero(s->key, sizeof(s->key));
    free(s);
}

/* 43 base64url characters: the only shape of a session id. */
static int sid_ok(const char *sid, size_t len)
{
    if (len != GH_SID_TEXT - 1)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)sid[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* The store knows a session only by this digest. GH_ERR_AUTH when sid is no session id. */
static gh_err sid_hash(const struct gh_sessions *s, const char *sid, size_t len,
                       unsigned char out[GH_HASH_LEN])
{
    if (!sid_ok(sid, len))
        return GH_ERR_AUTH;
    return EVP_Digest(sid, len, out, NULL, s->sha256, NULL) == 1 ? GH_OK : GH_ERR_CRYPTO;
}

static gh_err csrf_of_hash(const struct gh_sessions *s, const unsigned char hash[GH_HASH_LEN],
                           char out[GH_CSRF_TEXT])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    size_t len = 0;
    crypto_auth_hmacsha256(mac, hash, GH_HASH_LEN, s->key);
    gh_err err = gh_b64url_encode(mac, sizeof(mac), out, GH_CSRF_TEXT, &len);
    sodium_memzero(mac, sizeof(mac));
    return err;
}

gh_err gh_session_csrf(const struct gh_sessions *s, const char *sid, size_t len,
                       char out[GH_CSRF_TEXT])
{
    unsigned char hash[GH_HASH_LEN];
    gh_err err = sid_hash(s, sid, len, hash);
    return err == GH_OK ? csrf_of_hash(s, hash, out) : err;
}

int gh_session_csrf_ok(const struct gh_sessions *s, const char *sid, size_t sid_len,
                       const char *token, size_t len)
{
    char want[GH_CSRF_TEXT];
    if (len != GH_CSRF_TEXT - 1 || gh_session_csrf(s, sid, sid_len, want) != GH_OK)
        return 0;
    int ok = sodium_memcmp(want, token, GH_CSRF_TEXT - 1) == 0;
    sodium_memzero(want, sizeof(want));
    return ok;
}

/* src (NULL: "") into dst, cut to fit. */
static void cut_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src != NULL ? src : "", n);
    dst[n] = '\0';
}

gh_err gh_session_start(struct gh_sessions *s, const char *user_id, const char *org_id,
                        const char *family_id, const char *method, const struct gh_reqmeta *meta,
                        char sid[GH_SID_TEXT], char csrf[GH_CSRF_TEXT])
{
    struct gh_session rec;
    unsigned char raw[32];
    size_t len = 0;
    memset(&rec, 0, sizeof(rec));
    randombytes_buf(raw, sizeof(raw));
    gh_err err = gh_b64url_encode(raw, sizeof(raw), sid, GH_SID_TEXT, &len);
    sodium_memzero(raw, sizeof(raw));
    if (err != GH_OK || (err = sid_hash(s, sid, len, rec.hash)) != GH_OK)
        return err == GH_ERR_AUTH ? GH_ERR_INTERNAL : err;
    gh_uuid_v7(rec.id);
    if (gh_copy_field(rec.user_id, sizeof(rec.user_id), user_id) != GH_OK ||
        gh_copy_field(rec.org_id, sizeof(rec.org_id), org_id) != GH_OK ||
        gh_copy_field(rec.family_id, sizeof(rec.family_id), family_id) != GH_OK ||
        gh_copy_field(rec.method, sizeof(rec.method), method) != GH_OK)
        return GH_ERR_INVALID;
    /* the address and agent are shown to the user: cut, never refused */
    if (meta != NULL)
        cut_copy(rec.ip_address, sizeof(rec.ip_address), meta->ip);
    if (meta != NULL)
        cut_copy(rec.user_agent, sizeof(rec.user_agent), meta->user_agent);
    rec.created_at = rec.last_seen_at = rec.auth_time = gh_time_now();
    rec.expires_at = rec.created_at + s->o.absolute_timeout;
    if ((err = gh_store_session_create(s->store, &rec)) != GH_OK ||
        (err = csrf_of_hash(s, rec.hash, csrf)) != GH_OK) {
        sodium_memzero(sid, GH_SID_TEXT);
        return err;
    }
    return GH_OK;
}

/* How often a session's last use is written: a minute, or often enough for a short idle
 * timeout to see every use. */
static int64_t touch_every(const struct gh_sessions *s)
{
    int64_t quarter = s->o.idle_timeout / 4;
    return quarter < GH_SESSION_TOUCH ? (quarter > 0 ? quarter : 1) : GH_SESSION_TOUCH;
}

/* When the cache may keep c: until the earlier of the timeouts. */
static int64_t cached_until(const struct gh_sessions *s, const struct cached *c)
{
    int64_t idle = c->last_seen_at + s->o.idle_timeout;
    return idle < c->expires_at ? idle : c->expires_at;
}

/*
 * A session read from the store and cached under the view of its user taken after a first
 * read and before the read that counts: a revocation between them changes the view's
 * generation, so nothing revoked is cached as live.
 */
static gh_err load(struct gh_sessions *s, const unsigned char hash[GH_HASH_LEN], int64_t now,
                   struct cached *out, struct gh_user_view *view)
{
    struct gh_session rec;
    gh_err err = gh_store_session_get(s->store, hash, now, &rec);
    if (err == GH_OK)
        err = gh_views_user(s->views, rec.user_id, now, view);
    if (err == GH_OK)
        err = gh_store_session_get(s->store, hash, now, &rec);
    if (err == GH_ERR_NOT_FOUND || err == GH_ERR_REVOKED)
        return GH_ERR_AUTH;
    if (err != GH_OK)
        return err;
    memset(out, 0, sizeof(*out));
    memcpy(out->id, rec.id, sizeof(out->id));
    memcpy(out->user_id, rec.user_id, sizeof(out->user_id));
    memcpy(out->org_id, rec.org_id, sizeof(out->org_id));
    out->last_seen_at = rec.last_seen_at;
    out->expires_at = rec.expires_at;
    out->auth_time = rec.auth_time;
    out->gen = view->gen;
    return GH_OK;
}

/*
 * The cache finds a session by its id's text, not by the digest the store keeps: a hit then
 * costs no SHA-256 (with OpenSSL's EVP around it, as much as the rest of the check). The
 * cache's keyed SipHash must match before its key compare runs, so that compare's timing
 * cannot be aimed at a live id (the token cache's tail key rests on the same); an entry is
 * made only after the store found the session, and is wiped when dropped. The price: the
 * process holds live ids in memory, as it holds live access tokens.
 */
gh_err gh_session_check(struct gh_sessions *s, const char *sid, size_t len, int64_t now,
                        struct gh_identity *out)
{
    unsigned char hash[GH_HASH_LEN];
    struct cached c;
    struct gh_user_view view;
    size_t clen = 0;
    gh_err err;
    if (!sid_ok(sid, len))
        return GH_ERR_AUTH;
    int hit =
        gh_cache_get(s->cache, sid, len, now, &c, sizeof(c), &clen) == GH_OK && clen == sizeof(c);
    if (hit) {
        err = gh_views_user(s->views, c.user_id, now, &view);
        if (err == GH_ERR_REVOKED) /* the user is gone */
            return GH_ERR_AUTH;
        if (err != GH_OK)
            return err;
        hit = view.gen == c.gen;
    }
    if (!hit) {
        if ((err = sid_hash(s, sid, len, hash)) != GH_OK ||
            (err = load(s, hash, now, &c, &view)) != GH_OK) {
            gh_cache_del(s->cache, sid, len);
            return err;
        }
    }
    if (c.expires_at <= now || c.last_seen_at + s->o.idle_timeout <= now) {
        gh_cache_del(s->cache, sid, len);
        return GH_ERR_EXPIRED;
    }
    if (view.disabled)
        return GH_ERR_REVOKED;
    if (now - c.last_seen_at >= touch_every(s)) {
        if ((err = gh_store_session_touch(s->store, c.id, now)) != GH_OK)
            return err;
        c.last_seen_at = now;
        hit = 0;
    }
    if (!hit)
        (void)gh_cache_put(s->cache, sid, len, &c, sizeof(c), cached_until(s, &c));

    /* What it may do is the user's role in the session's org now. */
    struct gh_member_view mv;
    if ((err = gh_views_member(s->views, c.user_id, c.org_id, &view, now, &mv)) != GH_OK)
        return err == GH_ERR_NOT_FOUND ? GH_ERR_REVOKED : err;
    /* field by field, as the token check does: the whole struct is 3 KB, its text short */
    memcpy(out->user_id, c.user_id, sizeof(out->user_id));
    memcpy(out->username, view.username, sizeof(out->username));
    memcpy(out->org_id, c.org_id, sizeof(out->org_id));
    memcpy(out->session_id, c.id, sizeof(out->session_id));
    if (gh_copy_field(out->roles, sizeof(out->roles), mv.role) != GH_OK ||
        gh_copy_field(out->perms, sizeof(out->perms), mv.perms) != GH_OK)
        return GH_ERR_INTERNAL; /* sized alike: cannot happen */
    out->expires_at = c.expires_at;
    out->cred = GH_CRED_SESSION;
    out->key_id[0] = '\0';
    out->scoped = 0;
    out->superadmin = view.superadmin;
    out->auth_time = c.auth_time;
    return GH_OK;
}

gh_err gh_session_reauth(struct gh_sessions *s, const struct gh_identity *who, int64_t at)
{
    gh_err err = gh_store_session_reauth(s->store, who->user_id, who->session_id, at);
    /* the cached session is reloaded under the user's next view, with its new time */
    gh_views_forget(s->views, who->user_id);
    return err == GH_ERR_NOT_FOUND ? GH_ERR_AUTH : err;
}

gh_err gh_session_logout(struct gh_sessions *s, const char *sid, size_t len,
                         const struct gh_reqmeta *meta)
{
    unsigned char hash[GH_HASH_LEN];
    struct gh_session rec;
    int64_t now = gh_time_now();
    if (sid_hash(s, sid, len, hash) != GH_OK)
        return GH_OK;
    gh_err err = gh_store_session_get(s->store, hash, now, &rec);
    if (err == GH_ERR_NOT_FOUND)
        return GH_OK;
    if (err == GH_OK)
        err = gh_store_session_revoke(s->store, rec.user_id, rec.id, now);
    gh_cache_del(s->cache, sid, len);
    if (err == GH_ERR_NOT_FOUND) /* revoked meanwhile */
        return GH_OK;
    if (err != GH_OK)
        return err;
    gh_views_forget(s->views, rec.user_id);
    struct gh_audit_subject who = {rec.user_id, NULL, rec.org_id};
    return gh_audit_record(s->store, "LOGOUT", meta, &who, 204, "{\"session\":true}");
}

struct live_visit {
    const struct gh_sessions *s;
    int64_t now;
    gh_session_visit_fn fn;
    void *arg;
};

static int visit_live(void *arg, const struct gh_session *rec)
{
    struct live_visit *v = arg;
    if (rec->last_seen_at + v->s->o.idle_timeout <= v->now)
        return 0;
    return v->fn(v->arg, rec);
}

gh_err gh_session_list(struct gh_sessions *s, const char *user_id, size_t limit, size_t offset,
                       gh_session_visit_fn fn, void *arg)
{
    struct live_visit v = {s, gh_time_now(), fn, arg};
    return gh_store_session_list(s->store, user_id, v.now, limit, offset, visit_live, &v);
}

gh_err gh_session_revoke(struct gh_sessions *s, const struct gh_identity *who, const char *id,
                         const struct gh_reqmeta *meta)
{
    if (!gh_uuid_valid(id, strlen(id)))
        return GH_ERR_NOT_FOUND;
    gh_err err = gh_store_session_revoke(s->store, who->user_id, id, gh_time_now());
    if (err != GH_OK)
        return err;
    gh_views_forget(s->views, who->user_id);
    char md[80];
    (void)snprintf(md, sizeof(md), "{\"session_id\":\"%s\"}", id);
    struct gh_audit_subject subject = {who->user_id, who->username, who->org_id};
    return gh_audit_record(s->store, "SESSION_REVOKED", meta, &subject, 204, md);
}

void gh_session_cache_stats(struct gh_sessions *s, uint64_t *hits, uint64_t *misses)
{
    gh_cache_stats(s->cache, hits, misses);
}
