#include "audit/chain.h"

#include <string.h>
#include <sodium.h>

static const char RECORD_TAG[] = "gatehouse.audit.v1"; /* written with its NUL */
static const char CHECKPOINT_TAG[] = "gatehouse.audit.checkpoint.v1";

/* Where an encoding goes: a buffer (its first error kept) or a running hash. */
struct sink {
    struct gh_buf *buf;
    crypto_hash_sha256_state *sha;
    gh_err err;
};

static void put(struct sink *s, const void *p, size_t n)
{
    if (s->sha != NULL)
        crypto_hash_sha256_update(s->sha, p, n);
    else if (s->err == GH_OK)
        s->err = gh_buf_append(s->buf, p, n);
}

static void put_u64(struct sink *s, uint64_t v)
{
    unsigned char b[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)(v & 0xff);
    put(s, b, sizeof(b));
}

static void put_text(struct sink *s, const char *v)
{
    static const unsigned char absent = 0, present = 1;
    if (v == NULL || *v == '\0') {
        put(s, &absent, 1);
        return;
    }
    size_t n = strlen(v);
    unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 8), (unsigned char)n};
    put(s, &present, 1);
    put(s, len, sizeof(len));
    put(s, v, n);
}

static void put_int(struct sink *s, int64_t v)
{
    static const unsigned char absent = 0, present = 1;
    if (v == 0) {
        put(s, &absent, 1);
        return;
    }
    put(s, &present, 1);
    put_u64(s, (uint64_t)v);
}

static void encode(struct sink *s, int64_t seq, const struct gh_audit_event *ev,
                   const unsigned char prev[GH_HASH_LEN])
{
    put(s, RECORD_TAG, sizeof(RECORD_TAG));
    put_u64(s, (uint64_t)seq);
    put_u64(s, (uint64_t)ev->ts);
    put_text(s, ev->action);
    put_text(s, ev->user_id);
    put_text(s, ev->username);
    put_text(s, ev->org_id);
    put_text(s, ev->resource_type);
    put_text(s, ev->resource_id);
    put_text(s, ev->ip_address);
    put_text(s, ev->user_agent);
    put_text(s, ev->method);
    put_text(s, ev->path);
    put_int(s, ev->status);
    put_text(s, ev->metadata_json);
    put(s, prev, GH_HASH_LEN);
}

gh_err gh_audit_encode(int64_t seq, const struct gh_audit_event *ev,
                       const unsigned char prev[GH_HASH_LEN], struct gh_buf *out)
{
    size_t len = out->len;
    struct sink s = {out, NULL, GH_OK};
    encode(&s, seq, ev, prev);
    if (s.err != GH_OK) {
        out->len = len; /* nothing half-appended */
        if (out->ptr != NULL)
            out->ptr[len] = '\0';
    }
    return s.err;
}

void gh_audit_hash(int64_t seq, const struct gh_audit_event *ev,
                   const unsigned char prev[GH_HASH_LEN], unsigned char out[GH_HASH_LEN])
{
    crypto_hash_sha256_state sha;
    struct sink s = {NULL, &sha, GH_OK};
    crypto_hash_sha256_init(&sha);
    encode(&s, seq, ev, prev);
    crypto_hash_sha256_final(&sha, out);
}

void gh_audit_key_id(const unsigned char pk[GH_AUDIT_PK_LEN], char out[GH_AUDIT_KEY_ID_LEN + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, pk, GH_AUDIT_PK_LEN);
    sodium_bin2hex(out, GH_AUDIT_KEY_ID_LEN + 1, h, GH_AUDIT_KEY_ID_LEN / 2);
}

/* The signed message of cp (tag, seq, ts, hash); returns its length. */
static size_t checkpoint_message(const struct gh_audit_checkpoint *cp,
                                 unsigned char out[sizeof(CHECKPOINT_TAG) + 16 + GH_HASH_LEN])
{
    struct gh_buf b;
    struct sink s = {&b, NULL, GH_OK};
    gh_buf_init(&b, 256);
    put(&s, CHECKPOINT_TAG, sizeof(CHECKPOINT_TAG));
    put_u64(&s, (uint64_t)cp->seq);
    put_u64(&s, (uint64_t)cp->ts);
    put(&s, cp->hash, GH_HASH_LEN);
    size_t n = s.err == GH_OK ? b.len : 0;
    if (n > 0)
        memcpy(out, b.ptr, n);
    gh_buf_clear(&b);
    return n;
}

void gh_audit_checkpoint_sign(struct gh_audit_checkpoint *cp, const unsigned char *sk)
{
    unsigned char msg[sizeof(CHECKPOINT_TAG) + 16 + GH_HASH_LEN];
    size_t n = checkpoint_message(cp, msg);
    crypto_sign_detached(cp->signature, NULL, msg, n, sk);
    /* The public key is the second half of a libsodium Ed25519 secret key. */
    gh_audit_key_id(sk + crypto_sign_SECRETKEYBYTES - crypto_sign_PUBLICKEYBYTES, cp->key_id);
}

gh_err gh_audit_checkpoint_check(const struct gh_audit_checkpoint *cp,
                                 const unsigned char pk[GH_AUDIT_PK_LEN])
{
    unsigned char msg[sizeof(CHECKPOINT_TAG) + 16 + GH_HASH_LEN];
    char id[GH_AUDIT_KEY_ID_LEN + 1];
    gh_audit_key_id(pk, id);
    size_t n = checkpoint_message(cp, msg);
    if (n == 0 || strcmp(id, cp->key_id) != 0 ||
        crypto_sign_verify_detached(cp->signature, msg, n, pk) != 0)
        return GH_ERR_AUTH;
    return GH_OK;
}

/* ---- verification ---- */

void gh_audit_check_init(struct gh_audit_check *c, int64_t start,
                         const unsigned char pk[GH_AUDIT_PK_LEN],
                         const struct gh_audit_checkpoint *cps, size_t ncps)
{
    memset(c, 0, sizeof(*c));
    c->pk = pk;
    c->cps = cps;
    c->ncps = ncps;
    c->start = start;
    c->last = start;
    for (size_t i = 0; i < ncps; i++) {
        if (gh_audit_checkpoint_check(&cps[i], pk) == GH_OK)
            c->v.checkpoints++;
        else if (c->bad_sig == 0)
            c->bad_sig = cps[i].seq;
    }
}

static int broken(struct gh_audit_check *c, int64_t seq, const char *reason)
{
    if (c->v.first_bad == 0) {
        c->v.first_bad = seq;
        c->v.reason = reason;
    }
    return 1;
}

/* The newest checkpoint before seq, or the chain's first record: where records are missing. */
static int64_t missing_from(const struct gh_audit_check *c, int64_t seq)
{
    int64_t from = c->start + 1;
    for (size_t i = 0; i < c->ncps && c->cps[i].seq < seq; i++)
        if (c->cps[i].seq > c->start)
            from = c->cps[i].seq;
    return from;
}

/* The checkpoint at exactly seq, or NULL; moves past the ones before it. Those must lie
 * before the first record (purged): one for a record the chain skipped is a deletion. */
static const struct gh_audit_checkpoint *checkpoint_at(struct gh_audit_check *c, int64_t seq)
{
    while (c->next_cp < c->ncps && c->cps[c->next_cp].seq < seq) {
        if (c->expect != 0 && c->cps[c->next_cp].seq > c->start) {
            broken(c, c->cps[c->next_cp].seq, "missing");
            return NULL;
        }
        c->next_cp++;
    }
    if (c->next_cp < c->ncps && c->cps[c->next_cp].seq == seq)
        return &c->cps[c->next_cp++];
    return NULL;
}

int gh_audit_check_row(struct gh_audit_check *c, const struct gh_audit_row *row)
{
    unsigned char h[GH_HASH_LEN];
    if (c->v.first_bad != 0)
        return 1;
    if (row->seq <= c->start) {
        c->v.legacy++;
        return 0;
    }
    const unsigned char *prev = c->prev; /* zeros for the chain's first record */
    const struct gh_audit_checkpoint *cp = NULL;
    if (c->expect == 0 && row->seq != c->start + 1) {
        /* Older records were purged: a signed checkpoint must vouch for this one. */
        cp = checkpoint_at(c, row->seq);
        if (cp == NULL || !row->hashed)
            return broken(c, missing_from(c, row->seq), "missing");
        prev = row->prev_hash;
    } else if (c->expect != 0 && row->seq != c->expect) {
        return broken(c, c->expect, "missing");
    } else {
        cp = checkpoint_at(c, row->seq);
        if (c->v.first_bad != 0)
            return 1;
    }
    if (!row->hashed || sodium_memcmp(row->prev_hash, prev, GH_HASH_LEN) != 0)
        return broken(c, row->seq, "link");
    gh_audit_hash(row->seq, &row->ev, prev, h);
    if (sodium_memcmp(h, row->hash, GH_HASH_LEN) != 0)
        return broken(c, row->seq, "altered");
    if (cp != NULL) {
        if (sodium_memcmp(cp->hash, h, GH_HASH_LEN) != 0)
            return broken(c, row->seq, "checkpoint");
        if (gh_audit_checkpoint_check(cp, c->pk) == GH_OK) {
            c->v.checkpoint_seq = cp->seq;
            c->v.checkpoint_ts = cp->ts;
        }
    }
    memcpy(c->prev, h, GH_HASH_LEN);
    c->expect = row->seq + 1;
    c->last = row->seq;
    c->v.records++;
    return 0;
}

void gh_audit_check_finish(struct gh_audit_check *c, int64_t head_seq, struct gh_audit_verdict *out)
{
    if (c->v.first_bad == 0) {
        /* Records after the last one seen that a checkpoint or the sequence knows of. */
        int64_t known = head_seq;
        for (size_t i = c->next_cp; i < c->ncps; i++)
            if (c->cps[i].seq > known)
                known = c->cps[i].seq;
        if (known > c->last)
            broken(c, c->expect != 0 ? c->last + 1 : missing_from(c, known + 1), "missing");
    }
    if (c->bad_sig != 0 && (c->v.first_bad == 0 || c->bad_sig < c->v.first_bad)) {
        c->v.first_bad = c->bad_sig;
        c->v.reason = "signature";
    }
    c->v.valid = c->v.first_bad == 0;
    *out = c->v;
}
