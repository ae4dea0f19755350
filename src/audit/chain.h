#ifndef GH_AUDIT_CHAIN_H
#define GH_AUDIT_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

/*
 * The tamper-evident audit chain: pure functions, shared by every store backend (which
 * hash while appending) and the verifier. docs/ARCHITECTURE.md "Audit chain" is the
 * specification; in short:
 *
 *   record   = "gatehouse.audit.v1" 0x00
 *              u64be(seq) i64be(ts)
 *              text(action) text(user_id) text(username) text(org_id)
 *              text(resource_type) text(resource_id) text(ip_address)
 *              text(user_agent) text(method) text(path)
 *              int(status) text(metadata)
 *              prev_hash                        (32 bytes; zeros for the first record)
 *   text(s)  = 0x00 when s is NULL or empty, else 0x01 u32be(length) bytes
 *   int(v)   = 0x00 when v is 0 (no status), else 0x01 i64be(v)
 *   hash     = SHA-256(record)
 *
 *   checkpoint message = "gatehouse.audit.checkpoint.v1" 0x00 u64be(seq) i64be(ts) hash
 *   signed with Ed25519; key id = hex of the first 8 bytes of SHA-256(public key).
 */

#define GH_AUDIT_PK_LEN 32 /* Ed25519 public key */

/** Appends the canonical encoding of record seq (ev, after prev) to out. */
gh_err gh_audit_encode(int64_t seq, const struct gh_audit_event *ev,
                       const unsigned char prev[GH_HASH_LEN], struct gh_buf *out) GH_WUR
    GH_NONNULL(2, 3, 4);

/** SHA-256 of the same encoding, streamed (nothing is allocated). */
void gh_audit_hash(int64_t seq, const struct gh_audit_event *ev,
                   const unsigned char prev[GH_HASH_LEN], unsigned char out[GH_HASH_LEN])
    GH_NONNULL(2, 3, 4);

/** Writes the key id of pk (GH_AUDIT_KEY_ID_LEN hex digits and a NUL). */
void gh_audit_key_id(const unsigned char pk[GH_AUDIT_PK_LEN], char out[GH_AUDIT_KEY_ID_LEN + 1])
    GH_NONNULL(1, 2);

/** Signs cp's (seq, ts, hash) with the Ed25519 secret key sk, filling signature and key_id. */
void gh_audit_checkpoint_sign(struct gh_audit_checkpoint *cp, const unsigned char *sk)
    GH_NONNULL(1, 2);

/** GH_OK when cp was signed by pk (and names pk's key id); GH_ERR_AUTH otherwise. */
gh_err gh_audit_checkpoint_check(const struct gh_audit_checkpoint *cp,
                                 const unsigned char pk[GH_AUDIT_PK_LEN]) GH_WUR GH_NONNULL(1, 2);

/** What a verification found. */
struct gh_audit_verdict {
    int valid;
    int64_t records;        /* chained records checked */
    int64_t legacy;         /* records from before the chain, not covered */
    int64_t first_bad;      /* the first altered, deleted or inserted record (0: none) */
    const char *reason;     /* NULL, or "altered", "missing", "link", "checkpoint", "signature" */
    int64_t checkpoints;    /* checkpoints whose signature holds */
    int64_t checkpoint_seq; /* the newest checkpoint that matched the chain (0: none) */
    int64_t checkpoint_ts;
};

/**
 * A verification in progress: gh_audit_check_init with the chain's start and every
 * checkpoint (sorted by seq, borrowed until finish), then each record in seq order
 * (gh_audit_check_row returns non-zero once a break is found: stop feeding), then
 * gh_audit_check_finish with the highest seq ever given (head->seq).
 * A chain purged by retention starts at a checkpointed record: that checkpoint's
 * signed hash vouches for it.
 */
struct gh_audit_check {
    const unsigned char *pk;
    const struct gh_audit_checkpoint *cps;
    size_t ncps, next_cp;
    int64_t start, expect, last;
    unsigned char prev[GH_HASH_LEN];
    int64_t bad_sig; /* the first checkpoint with a bad signature (0: none) */
    struct gh_audit_verdict v;
};

void gh_audit_check_init(struct gh_audit_check *c, int64_t start,
                         const unsigned char pk[GH_AUDIT_PK_LEN],
                         const struct gh_audit_checkpoint *cps, size_t ncps) GH_NONNULL(1, 3);
int gh_audit_check_row(struct gh_audit_check *c, const struct gh_audit_row *row) GH_NONNULL(1, 2);
void gh_audit_check_finish(struct gh_audit_check *c, int64_t head_seq, struct gh_audit_verdict *out)
    GH_NONNULL(1, 3);

#endif
