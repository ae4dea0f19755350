/* The SQL backends: orgs, roles, memberships, declared permissions (store.h). */
#include <string.h>

#include "core/uuid.h"
#include "store/sql.h"

static const struct sq_col org_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, struct gh_org, id),
    SQ_COL(SQ_COL_TEXT, 1, struct gh_org, name),
    SQ_COL(SQ_COL_I64, 2, struct gh_org, created_at),
};
SQ_CALL(call_org, gh_org_visit_fn)
const struct sq_row sq_row_org = SQ_ROW("org", struct gh_org, org_cols, call_org);

static const struct sq_col membership_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, struct gh_membership, org_id),
    SQ_COL(SQ_COL_TEXT, 1, struct gh_membership, org_name),
    SQ_COL(SQ_COL_TEXT, 2, struct gh_membership, role_name),
    SQ_COL(SQ_COL_TEXT, 3, struct gh_membership, permissions),
    SQ_COL(SQ_COL_I64, 4, struct gh_membership, epoch),
};
const struct sq_row sq_row_membership =
    SQ_ROW("membership", struct gh_membership, membership_cols, NULL);

static const struct sq_col role_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, struct gh_role, id),
    SQ_COL(SQ_COL_TEXT, 1, struct gh_role, org_id),
    SQ_COL(SQ_COL_TEXT, 2, struct gh_role, name),
    SQ_COL(SQ_COL_TEXT, 3, struct gh_role, permissions),
    SQ_COL(SQ_COL_INT, 4, struct gh_role, system),
};
SQ_CALL(call_role, gh_role_visit_fn)
const struct sq_row sq_row_role = SQ_ROW("role", struct gh_role, role_cols, call_role);

static const struct sq_col member_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, struct gh_member, user_id),
    SQ_COL(SQ_COL_TEXT, 1, struct gh_member, username),
    SQ_COL(SQ_COL_TEXT, 2, struct gh_member, role_name),
};
SQ_CALL(call_member, gh_member_visit_fn)
const struct sq_row sq_row_member = SQ_ROW("member", struct gh_member, member_cols, call_member);

/* A user id column, for the affected callbacks. */
struct user_ref {
    char user_id[GH_UUID_LEN + 1];
};
static const struct sq_col user_ref_cols[] = {SQ_COL(SQ_COL_TEXT, 0, struct user_ref, user_id)};
static int call_affected(void *fn, void *arg, const void *row)
{
    ((gh_affected_fn)fn)(arg, ((const struct user_ref *)row)->user_id);
    return 0;
}
static const struct sq_row row_user_ref =
    SQ_ROW("user id", struct user_ref, user_ref_cols, call_affected);

/* A declared permission's name. */
struct name {
    char name[256];
};
static const struct sq_col name_cols[] = {SQ_COL(SQ_COL_TEXT, 0, struct name, name)};
static int call_name(void *fn, void *arg, const void *row)
{
    return ((gh_name_visit_fn)fn)(arg, ((const struct name *)row)->name);
}
const struct sq_row sq_row_name = SQ_ROW("permission", struct name, name_cols, call_name);

/* Tells affected (when not NULL) about each user id statement id selects. */
static gh_err tell(struct conn *c, enum sq_stmt id, const struct sq_arg *args, size_t n,
                   gh_affected_fn affected, void *arg)
{
    if (affected == NULL)
        return GH_OK;
    return sq_each(c, id, args, n, &row_user_ref, SQ_FN(affected), arg);
}

/* ---- orgs ---- */

static gh_err insert_role(struct conn *c, const char *org_id, const char *name, const char *perms)
{
    char id[GH_UUID_STR];
    gh_uuid_v7(id);
    return sq_run(c, ST_ROLE_INSERT, SQ_ARGS(SQ_T(id), SQ_T(org_id), SQ_T(name), SQ_T(perms)),
                  NULL);
}

gh_err sq_org_create(struct gh_store *st, const struct gh_org *org, const char *admin_permissions,
                     const char *member_permissions)
{
    const size_t max = sizeof(((struct gh_membership *)0)->permissions);
    if (strnlen(admin_permissions, max) >= max || strnlen(member_permissions, max) >= max)
        return GH_ERR_TOO_LARGE; /* member_get could not read them back */
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_run(c, ST_ORG_INSERT, SQ_ARGS(SQ_F(org->id), SQ_F(org->name), SQ_I(org->created_at)),
                 NULL);
    if (err == GH_OK)
        err = insert_role(c, org->id, "admin", admin_permissions);
    if (err == GH_OK)
        err = insert_role(c, org->id, "member", member_permissions);
    err = sq_leave(st, c, err);
    return err;
}

gh_err sq_org_get(struct gh_store *st, const char *id, struct gh_org *out)
{
    return sq_st_one(st, ST_ORG_GET, SQ_ARGS(SQ_T(id)), &sq_row_org, out);
}

/* The rows of a lookup by name: the first kept, the others counted. */
struct org_by_name {
    struct gh_org *out;
    int found;
};

static int org_by_name_row(void *arg, const struct gh_org *org)
{
    struct org_by_name *f = arg;
    if (f->found++ == 0)
        *f->out = *org;
    return 0;
}

gh_err sq_org_find_name(struct gh_store *st, const char *name, struct gh_org *out)
{
    struct org_by_name f = {out, 0};
    gh_err err = sq_st_each(st, ST_ORG_FIND_NAME, SQ_ARGS(SQ_T(name)), &sq_row_org,
                            SQ_FN(org_by_name_row), &f);
    if (err == GH_OK && f.found == 0)
        return GH_ERR_NOT_FOUND;
    return err == GH_OK && f.found > 1 ? GH_ERR_CONFLICT : err;
}

gh_err sq_org_list(struct gh_store *st, const char *user_id, size_t limit, size_t offset,
                   gh_org_visit_fn fn, void *arg)
{
    if (user_id == NULL)
        return sq_st_each(st, ST_ORG_LIST_ALL,
                          SQ_ARGS(SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset))), &sq_row_org,
                          SQ_FN(fn), arg);
    return sq_st_each(st, ST_ORG_LIST_USER,
                      SQ_ARGS(SQ_T(user_id), SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset))),
                      &sq_row_org, SQ_FN(fn), arg);
}

gh_err sq_org_rename(struct gh_store *st, const char *id, const char *name)
{
    if (strnlen(name, sizeof(((struct gh_org *)0)->name)) >= sizeof(((struct gh_org *)0)->name))
        return GH_ERR_TOO_LARGE;
    int64_t n = 0;
    gh_err err = sq_st_run(st, ST_ORG_RENAME, SQ_ARGS(SQ_T(id), SQ_T(name)), &n);
    return err == GH_OK && n == 0 ? GH_ERR_NOT_FOUND : err;
}

gh_err sq_org_delete(struct gh_store *st, const char *id, int64_t now, gh_affected_fn affected,
                     void *arg)
{
    int64_t n = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = tell(c, ST_ORG_MEMBERS, SQ_ARGS(SQ_T(id)), affected, arg)) == GH_OK &&
        (err = sq_run(c, ST_ORG_FEED, SQ_ARGS(SQ_T(id), SQ_I(now)), NULL)) == GH_OK &&
        (err = sq_run(c, ST_ORG_DELETE, SQ_ARGS(SQ_T(id)), &n)) == GH_OK && n == 0)
        err = GH_ERR_NOT_FOUND;
    err = sq_leave(st, c, err);
    return err;
}

/* ---- roles ---- */

gh_err sq_role_list(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                    gh_role_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_ROLE_LIST,
                      SQ_ARGS(SQ_T(org_id), SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset))),
                      &sq_row_role, SQ_FN(fn), arg);
}

gh_err sq_role_get(struct gh_store *st, const char *org_id, const char *role_id,
                   struct gh_role *out)
{
    return sq_st_one(st, ST_ROLE_GET, SQ_ARGS(SQ_T(org_id), SQ_T(role_id)), &sq_row_role, out);
}

gh_err sq_role_create(struct gh_store *st, const struct gh_role *r)
{
    return sq_st_run(st, ST_ROLE_INSERT_CUSTOM,
                     SQ_ARGS(SQ_F(r->id), SQ_F(r->org_id), SQ_F(r->name), SQ_F(r->permissions)),
                     NULL);
}

gh_err sq_role_update(struct gh_store *st, const char *org_id, const char *role_id,
                      const char *name, const char *permissions, int64_t now,
                      gh_affected_fn affected, void *arg)
{
    const size_t max = sizeof(((struct gh_role *)0)->permissions);
    if ((name != NULL && strnlen(name, 65) >= 65) ||
        (permissions != NULL && strnlen(permissions, max) >= max))
        return GH_ERR_TOO_LARGE;
    int64_t n = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_run(c, ST_ROLE_UPDATE,
                 SQ_ARGS(SQ_T(org_id), SQ_T(role_id), SQ_T(name), SQ_T(permissions)), &n);
    if (err == GH_OK && n == 0)
        err = GH_ERR_NOT_FOUND;
    /* Its members' permissions or role name changed: every cached view of them goes,
     * here through affected and on other nodes through the feed. */
    if (err == GH_OK)
        err = sq_run(c, ST_ROLE_FEED, SQ_ARGS(SQ_T(org_id), SQ_T(role_id), SQ_I(now)), NULL);
    if (err == GH_OK)
        err = tell(c, ST_ROLE_MEMBERS, SQ_ARGS(SQ_T(org_id), SQ_T(role_id)), affected, arg);
    err = sq_leave(st, c, err);
    return err;
}

gh_err sq_role_delete(struct gh_store *st, const char *org_id, const char *role_id)
{
    int64_t used = 0, n = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = sq_int(c, ST_ROLE_IN_USE, SQ_ARGS(SQ_T(org_id), SQ_T(role_id)), &used)) == GH_OK) {
        if (used > 0)
            err = GH_ERR_CONFLICT;
        else if ((err = sq_run(c, ST_ROLE_DELETE, SQ_ARGS(SQ_T(org_id), SQ_T(role_id)), &n)) ==
                     GH_OK &&
                 n == 0)
            err = GH_ERR_NOT_FOUND;
    }
    err = sq_leave(st, c, err);
    return err;
}

/* ---- memberships ---- */

/* A role id column. */
struct role_ref {
    char id[GH_UUID_LEN + 1];
};
static const struct sq_col role_ref_cols[] = {SQ_COL(SQ_COL_TEXT, 0, struct role_ref, id)};
static const struct sq_row role_id_row = SQ_ROW("role id", struct role_ref, role_ref_cols, NULL);

gh_err sq_member_add(struct gh_store *st, const char *org_id, const char *user_id,
                     const char *role_name, int64_t now)
{
    int64_t n = 0;
    gh_err err = sq_st_run(st, ST_MEMBER_ADD,
                           SQ_ARGS(SQ_T(org_id), SQ_T(user_id), SQ_T(role_name), SQ_I(now)), &n);
    return err == GH_OK && n == 0 ? GH_ERR_NOT_FOUND : err; /* no such org, or role in it */
}

gh_err sq_member_get(struct gh_store *st, const char *org_id, const char *user_id,
                     struct gh_membership *out)
{
    return sq_st_one(st, ST_MEMBER_GET, SQ_ARGS(SQ_T(org_id), SQ_T(user_id)), &sq_row_membership,
                     out);
}

/* Fills the caller's array, one membership per row. */
struct fill {
    struct gh_membership *out;
    size_t max, n;
};
static int call_fill(void *fn, void *arg, const void *row)
{
    struct fill *f = arg;
    (void)fn;
    f->out[f->n++] = *(const struct gh_membership *)row;
    return f->n == f->max;
}
static const struct sq_row row_fill =
    SQ_ROW("membership", struct gh_membership, membership_cols, call_fill);

gh_err sq_member_list_user(struct gh_store *st, const char *user_id, struct gh_membership *out,
                           size_t max, size_t *n)
{
    struct fill f = {out, max, 0};
    gh_err err = GH_OK;
    if (max > 0)
        err = sq_st_each(st, ST_MEMBER_LIST_USER, SQ_ARGS(SQ_T(user_id), SQ_I(sq_clamp(max))),
                         &row_fill, NULL, &f);
    if (err == GH_OK)
        *n = f.n;
    return err;
}

gh_err sq_member_list_org(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                          gh_member_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_MEMBER_LIST_ORG,
                      SQ_ARGS(SQ_T(org_id), SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset))),
                      &sq_row_member, SQ_FN(fn), arg);
}

gh_err sq_member_count_admins(struct gh_store *st, const char *org_id, int64_t *n)
{
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_int(c, ST_ADMIN_COUNT, SQ_ARGS(SQ_T(org_id)), n);
    sq_checkin(st, c);
    return err;
}

gh_err sq_member_set_role(struct gh_store *st, const char *org_id, const char *user_id,
                          const char *role_name, int64_t now)
{
    struct gh_membership m;
    struct role_ref role;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    /* Not a member (GH_ERR_NOT_FOUND) is said before no such role (GH_ERR_INVALID). */
    err = sq_one(c, ST_MEMBER_GET, SQ_ARGS(SQ_T(org_id), SQ_T(user_id)), &sq_row_membership, &m);
    if (err == GH_OK) {
        err = sq_one(c, ST_ROLE_FIND_NAME, SQ_ARGS(SQ_T(org_id), SQ_T(role_name)), &role_id_row,
                     &role);
        if (err == GH_ERR_NOT_FOUND)
            err = GH_ERR_INVALID;
    }
    if (err == GH_OK)
        err = sq_run(c, ST_MEMBER_SET_ROLE, SQ_ARGS(SQ_T(org_id), SQ_T(user_id), SQ_T(role.id)),
                     NULL);
    if (err == GH_OK)
        err = sq_feed(c, user_id, now);
    err = sq_leave(st, c, err);
    return err;
}

gh_err sq_member_remove(struct gh_store *st, const char *org_id, const char *user_id, int64_t now)
{
    int64_t n = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_run(c, ST_MEMBER_DELETE, SQ_ARGS(SQ_T(org_id), SQ_T(user_id)), &n);
    if (err == GH_OK && n == 0)
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK)
        err = sq_run(c, ST_MEMBER_BUMP_EPOCH, SQ_ARGS(SQ_T(org_id), SQ_T(user_id)), NULL);
    if (err == GH_OK)
        err = sq_feed(c, user_id, now);
    err = sq_leave(st, c, err);
    return err;
}

gh_err sq_member_fallback(struct gh_store *st, const char *org_id, const char *fallback_org_id,
                          int64_t now, int64_t *n)
{
    *n = 0;
    return sq_st_run(st, ST_MEMBER_FALLBACK,
                     SQ_ARGS(SQ_T(org_id), SQ_T(fallback_org_id), SQ_I(now)), n);
}

/* ---- declared permissions ---- */

gh_err sq_perm_add(struct gh_store *st, const char *name, int64_t now)
{
    return sq_st_run(st, ST_PERM_INSERT, SQ_ARGS(SQ_T(name), SQ_I(now)), NULL);
}

gh_err sq_perm_list(struct gh_store *st, gh_name_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_PERM_LIST, SQ_NOARGS, &sq_row_name, SQ_FN(fn), arg);
}
