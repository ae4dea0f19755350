/* The SQL backends: address blocks (store.h "address blocks"). */
#include "store/sql.h"

#define B struct gh_address_block
static const struct sq_col block_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, B, id),        SQ_COL(SQ_COL_TEXT, 1, B, cidr),
    SQ_COL(SQ_COL_TEXT, 2, B, reason),    SQ_COL(SQ_COL_TEXT, 3, B, created_by),
    SQ_COL(SQ_COL_I64, 4, B, expires_at), SQ_COL(SQ_COL_I64, 5, B, created_at),
    SQ_COL(SQ_COL_INT, 6, B, automatic),
};
#undef B
SQ_CALL(call_block, gh_block_visit_fn)
static const struct sq_row row_block =
    SQ_ROW("an address block", struct gh_address_block, block_cols, call_block);

gh_err sq_block_add(struct gh_store *st, const struct gh_address_block *b, int64_t now)
{
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_run(c, ST_BLOCK_PURGE, SQ_ARGS(SQ_I(now)), NULL);
    if (err == GH_OK)
        err = sq_run(c, ST_BLOCK_INSERT,
                     SQ_ARGS(SQ_F(b->id), SQ_F(b->cidr), SQ_F(b->reason), SQ_F(b->created_by),
                             SQ_I(b->expires_at), SQ_I(b->created_at), SQ_I(b->automatic != 0)),
                     NULL);
    if (err == GH_OK)
        err = sq_run(c, ST_BLOCK_BUMP, SQ_NOARGS, NULL);
    return sq_leave(st, c, err);
}

gh_err sq_block_remove(struct gh_store *st, const char *id, struct gh_address_block *out)
{
    struct gh_address_block b;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_one(c, ST_BLOCK_GET, SQ_ARGS(SQ_T(id)), &row_block, &b);
    if (err == GH_OK)
        err = sq_run(c, ST_BLOCK_DELETE, SQ_ARGS(SQ_T(id)), NULL);
    if (err == GH_OK)
        err = sq_run(c, ST_BLOCK_BUMP, SQ_NOARGS, NULL);
    err = sq_leave(st, c, err);
    if (err == GH_OK && out != NULL)
        *out = b;
    return err;
}

gh_err sq_block_list(struct gh_store *st, int64_t now, size_t limit, size_t offset,
                     gh_block_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_BLOCK_LIST,
                      SQ_ARGS(SQ_I(now), SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset))), &row_block,
                      SQ_FN(fn), arg);
}

gh_err sq_block_epoch(struct gh_store *st, int64_t *out)
{
    return sq_st_one(st, ST_BLOCK_EPOCH, SQ_NOARGS, &sq_row_int64, out);
}

const struct gh_store_block_ops sq_block_ops = {sq_block_add, sq_block_remove, sq_block_list,
                                                sq_block_epoch};
