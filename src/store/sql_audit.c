/* The SQL backends: the audit chain (store.h "the audit chain"). */
#include <string.h>

#include "store/sql.h"

/* A record's columns (AUDIT_COLS); its strings point into the running statement until its
 * next row, which is what gh_audit_row promises (valid during the visit only). */
static gh_err read_audit(const struct sq_cursor *cur, void *out)
{
    struct gh_audit_row *r = out;
    const char **text[] = {&r->ev.action,     &r->ev.user_id,       &r->ev.username,
                           &r->ev.org_id,     &r->ev.resource_type, &r->ev.resource_id,
                           &r->ev.ip_address, &r->ev.user_agent,    &r->ev.method,
                           &r->ev.path};
    r->seq = sq_col_i64(cur, 0);
    r->ev.ts = sq_col_i64(cur, 1);
    for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
        *text[i] = sq_col_text(cur, (int)i + 2);
    r->ev.status = (int)sq_col_i64(cur, 12);
    r->ev.metadata_json = sq_col_text(cur, 13);
    r->hashed = sq_col_exact(cur, 14, r->prev_hash, GH_HASH_LEN) &&
                sq_col_exact(cur, 15, r->hash, GH_HASH_LEN);
    return GH_OK;
}
SQ_CALL(call_audit, gh_audit_visit_fn)
const struct sq_row sq_row_audit = {
    "audit record", sizeof(struct gh_audit_row), NULL, 0, read_audit, call_audit};

/* A damaged checkpoint keeps zeros where it is damaged: its signature fails. */
static gh_err read_checkpoint(const struct sq_cursor *cur, void *out)
{
    struct gh_audit_checkpoint *cp = out;
    size_t n = 0;
    cp->seq = sq_col_i64(cur, 0);
    cp->ts = sq_col_i64(cur, 2);
    (void)sq_col_exact(cur, 1, cp->hash, GH_HASH_LEN);
    (void)sq_col_exact(cur, 3, cp->signature, GH_AUDIT_SIG_LEN);
    const char *id = cur->drv->col_text(cur, 4, &n);
    if (id != NULL && n < sizeof(cp->key_id))
        memcpy(cp->key_id, id, n);
    return GH_OK;
}
SQ_CALL(call_checkpoint, gh_checkpoint_visit_fn)
const struct sq_row sq_row_checkpoint = {
    "checkpoint", sizeof(struct gh_audit_checkpoint), NULL, 0, read_checkpoint, call_checkpoint};

/* The chain's end (ST_AUDIT_HEAD). A missing or damaged newest hash is chained over as
 * zeros: verification names it. */
static gh_err read_head(const struct sq_cursor *cur, void *out)
{
    struct gh_audit_head *h = out;
    h->start = sq_col_i64(cur, 0);
    h->seq = sq_col_i64(cur, 1);
    if (h->seq < h->start)
        h->seq = h->start;
    (void)sq_col_exact(cur, 2, h->hash, GH_HASH_LEN);
    h->checkpoint_seq = sq_col_i64(cur, 3);
    h->checkpoint_ts = sq_col_i64(cur, 4);
    return GH_OK;
}
static const struct sq_row row_head = {
    "audit head", sizeof(struct gh_audit_head), NULL, 0, read_head, NULL};

static gh_err head(struct conn *c, struct gh_audit_head *h)
{
    gh_err err = sq_one(c, ST_AUDIT_HEAD, SQ_NOARGS, &row_head, h);
    return err == GH_ERR_NOT_FOUND ? GH_ERR_INTERNAL : err;
}

/* Inserts record seq with its hashes (inside the append transaction). */
static gh_err insert(struct conn *c, const struct gh_audit_event *ev, int64_t seq,
                     const unsigned char *prev, const unsigned char *hash)
{
    return sq_run(c, ST_AUDIT_INSERT,
                  SQ_ARGS(SQ_I(ev->ts), SQ_T(ev->action), SQ_O(ev->user_id), SQ_O(ev->username),
                          SQ_O(ev->org_id), SQ_O(ev->resource_type), SQ_O(ev->resource_id),
                          SQ_O(ev->ip_address), SQ_O(ev->user_agent), SQ_O(ev->method),
                          SQ_O(ev->path),
                          /* 0: no HTTP status (a CLI action), stored as NULL */
                          ev->status != 0 ? SQ_I(ev->status) : SQ_NULL, SQ_O(ev->metadata_json),
                          SQ_I(seq), SQ_B(prev, GH_HASH_LEN), SQ_B(hash, GH_HASH_LEN)),
                  NULL);
}

gh_err sq_audit_append(struct gh_store *st, const struct gh_audit_event *evs, size_t n,
                       gh_audit_hash_fn hash_fn, struct gh_audit_head *out)
{
    struct gh_audit_head h;
    for (size_t i = 0; i < n; i++)
        if (evs[i].action == NULL || evs[i].action[0] == '\0')
            return GH_ERR_INVALID;
    struct conn *c;
    /* The chain's lock first, so that no other appender, on any node, reads the same end. */
    gh_err err = sq_enter_locked(st, ST_AUDIT_LOCK, &c);
    if (err != GH_OK)
        return err;
    err = head(c, &h);
    for (size_t i = 0; i < n && err == GH_OK; i++) {
        unsigned char hash[GH_HASH_LEN];
        hash_fn(h.seq + 1, &evs[i], h.hash, hash);
        if ((err = insert(c, &evs[i], h.seq + 1, h.hash, hash)) == GH_OK) {
            h.seq++;
            memcpy(h.hash, hash, GH_HASH_LEN);
        }
    }
    err = sq_leave(st, c, err);
    if (err == GH_OK)
        *out = h;
    return err;
}

gh_err sq_audit_head(struct gh_store *st, struct gh_audit_head *out)
{
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = head(c, out);
    sq_checkin(st, c);
    return err;
}

gh_err sq_audit_list(struct gh_store *st, const struct gh_audit_filter *f, size_t limit,
                     size_t offset, gh_audit_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_AUDIT_LIST,
                      SQ_ARGS(SQ_O(f->user_id), SQ_O(f->action), SQ_O(f->resource_type),
                              SQ_O(f->resource_id), SQ_O(f->org_id),
                              f->has_since ? SQ_I(f->since) : SQ_NULL,
                              f->has_until ? SQ_I(f->until) : SQ_NULL, SQ_I(sq_clamp(limit)),
                              SQ_I(sq_clamp(offset))),
                      &sq_row_audit, SQ_FN(fn), arg);
}

gh_err sq_audit_scan(struct gh_store *st, int64_t after, gh_audit_visit_fn fn, void *arg)
{
    /* One statement is one read transaction: a consistent snapshot under WAL. */
    return sq_st_each(st, ST_AUDIT_SCAN, SQ_ARGS(SQ_I(after)), &sq_row_audit, SQ_FN(fn), arg);
}

gh_err sq_checkpoint_add(struct gh_store *st, const struct gh_audit_checkpoint *cp)
{
    return sq_st_run(st, ST_CHECKPOINT_INSERT,
                     SQ_ARGS(SQ_I(cp->seq), SQ_B(cp->hash, GH_HASH_LEN), SQ_I(cp->ts),
                             SQ_B(cp->signature, GH_AUDIT_SIG_LEN), SQ_F(cp->key_id)),
                     NULL);
}

gh_err sq_checkpoint_list(struct gh_store *st, gh_checkpoint_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_CHECKPOINT_LIST, SQ_NOARGS, &sq_row_checkpoint, SQ_FN(fn), arg);
}

gh_err sq_audit_purge(struct gh_store *st, int64_t cutoff, int64_t *n)
{
    return sq_st_run(st, ST_AUDIT_PURGE, SQ_ARGS(SQ_I(cutoff)), n);
}
