/* The store conformance suite (conformance.h), part: browser sessions, TOTP factors, backup
 * codes and MFA challenges. Included by conformance.h only. */
#ifndef GH_TEST_STORE_CONFORMANCE_SESSIONS_H
#define GH_TEST_STORE_CONFORMANCE_SESSIONS_H

/* A session of user_id in org_id whose refresh family is family_id. */
static void fresh_session(struct gh_session *s, const char *user_id, const char *org_id,
                          const char *family_id, int64_t created, int64_t expires)
{
    memset(s, 0, sizeof(*s));
    gh_uuid_v7(s->id);
    randombytes_buf(s->hash, sizeof(s->hash));
    snprintf(s->user_id, sizeof(s->user_id), "%s", user_id);
    snprintf(s->org_id, sizeof(s->org_id), "%s", org_id);
    snprintf(s->family_id, sizeof(s->family_id), "%s", family_id);
    snprintf(s->method, sizeof(s->method), "password");
    snprintf(s->ip_address, sizeof(s->ip_address), "192.0.2.7");
    snprintf(s->user_agent, sizeof(s->user_agent), "Browser/1.0");
    s->created_at = s->last_seen_at = created;
    s->expires_at = expires;
}

static int count_session(void *arg, const struct gh_session *s)
{
    (void)s;
    (*(int *)arg)++;
    return 0;
}

static int session_count(const struct fixture *f, const char *user_id, int64_t now)
{
    int n = 0;
    assert_int_equal(gh_store_session_list(&f->h, user_id, now, 100, 0, count_session, &n), GH_OK);
    return n;
}

/* A session with its refresh token (the family the session's cookie rotates in). */
static void add_session(const struct fixture *f, const char *user_id, struct gh_session *s,
                        struct gh_refresh_token *t)
{
    fresh_token(t, user_id, f->org.id, 5000);
    assert_int_equal(gh_store_refresh_insert(&f->h, t), GH_OK);
    fresh_session(s, user_id, f->org.id, t->family_id, 100, 5000);
    assert_int_equal(gh_store_session_create(&f->h, s), GH_OK);
}

/* refresh_revoke_org ends the sessions in the org too (a removal from it), of one user or all. */
static void sessions_revoked_with_their_org(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, b;
    struct gh_session sa, sb, got;
    struct gh_refresh_token ta, tb;
    add_user(f, "olga", "olga@x.io", &a);
    add_user(f, "pete", "pete@x.io", &b);
    add_session(f, a.id, &sa, &ta);
    add_session(f, b.id, &sb, &tb);
    assert_int_equal(gh_store_refresh_revoke_org(&f->h, f->org.id, a.id, 150), GH_OK);
    assert_int_equal(gh_store_session_get(&f->h, sa.hash, 200, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_session_get(&f->h, sb.hash, 200, &got), GH_OK);
    assert_int_equal(gh_store_refresh_revoke_org(&f->h, f->org.id, NULL, 150), GH_OK);
    assert_int_equal(gh_store_session_get(&f->h, sb.hash, 200, &got), GH_ERR_NOT_FOUND);
}

static void sessions_create_get_list_touch(void **state)
{
    struct fixture *f = *state;
    struct gh_user a;
    struct gh_session s, got;
    struct gh_refresh_token t;
    add_user(f, "alice", "alice@x.io", &a);
    add_session(f, a.id, &s, &t);
    assert_int_equal(gh_store_session_create(&f->h, &s), GH_ERR_CONFLICT);
    struct gh_session orphan;
    fresh_session(&orphan, "no-such-user", f->org.id, t.family_id, 100, 5000);
    assert_int_equal(gh_store_session_create(&f->h, &orphan), GH_ERR_NOT_FOUND);

    assert_int_equal(gh_store_session_get(&f->h, s.hash, 200, &got), GH_OK);
    assert_string_equal(got.id, s.id);
    assert_string_equal(got.user_id, a.id);
    assert_string_equal(got.family_id, t.family_id);
    assert_string_equal(got.method, "password");
    assert_string_equal(got.ip_address, "192.0.2.7");
    assert_string_equal(got.user_agent, "Browser/1.0");
    assert_memory_equal(got.hash, s.hash, GH_HASH_LEN);
    assert_int_equal(got.expires_at, 5000);
    /* past the absolute timeout: gone */
    assert_int_equal(gh_store_session_get(&f->h, s.hash, 5000, &got), GH_ERR_NOT_FOUND);
    unsigned char other[GH_HASH_LEN];
    randombytes_buf(other, sizeof(other));
    assert_int_equal(gh_store_session_get(&f->h, other, 200, &got), GH_ERR_NOT_FOUND);

    /* touch moves forward only */
    assert_int_equal(gh_store_session_touch(&f->h, s.id, 300), GH_OK);
    assert_int_equal(gh_store_session_touch(&f->h, s.id, 250), GH_OK);
    assert_int_equal(gh_store_session_touch(&f->h, "no-such-id", 250), GH_OK);
    assert_int_equal(gh_store_session_get(&f->h, s.hash, 400, &got), GH_OK);
    assert_int_equal(got.last_seen_at, 300);

    /* lists: newest first, the user's own only, live only */
    struct gh_session s2, sb;
    struct gh_refresh_token t2, tb;
    struct gh_user b;
    add_user(f, "bob", "bob@x.io", &b);
    add_session(f, b.id, &sb, &tb);
    fresh_token(&t2, a.id, f->org.id, 5000);
    assert_int_equal(gh_store_refresh_insert(&f->h, &t2), GH_OK);
    fresh_session(&s2, a.id, f->org.id, t2.family_id, 150, 9000);
    assert_int_equal(gh_store_session_create(&f->h, &s2), GH_OK);
    assert_int_equal(session_count(f, a.id, 400), 2);
    assert_int_equal(session_count(f, a.id, 6000), 1);
    assert_int_equal(session_count(f, b.id, 400), 1);
    int n = 0;
    assert_int_equal(gh_store_session_list(&f->h, a.id, 400, 1, 1, count_session, &n), GH_OK);
    assert_int_equal(n, 1);
}

static void sessions_revoke_one_family_and_user(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, b;
    struct gh_session s1, s2, sb, got;
    struct gh_refresh_token t1, t2, tb;
    add_user(f, "alice", "alice@x.io", &a);
    add_user(f, "bob", "bob@x.io", &b);
    add_session(f, a.id, &s1, &t1);
    add_session(f, a.id, &s2, &t2);
    add_session(f, b.id, &sb, &tb);

    /* another user's session id is not found, and stays live */
    assert_int_equal(gh_store_session_revoke(&f->h, a.id, sb.id, 200), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_session_get(&f->h, sb.hash, 200, &got), GH_OK);
    int64_t feed = feed_count(f, a.id);
    assert_int_equal(gh_store_session_revoke(&f->h, a.id, s1.id, 200), GH_OK);
    assert_int_equal(gh_store_session_get(&f->h, s1.hash, 201, &got), GH_ERR_NOT_FOUND);
    assert_false(token_live(f, t1.hash, 201)); /* its refresh family went with it */
    assert_true(token_live(f, t2.hash, 201));
    assert_int_equal(feed_count(f, a.id), feed + 1);
    assert_int_equal(gh_store_session_revoke(&f->h, a.id, s1.id, 202), GH_ERR_NOT_FOUND);

    /* a reused refresh token ends its family's session */
    struct gh_refresh_token next, spent, again;
    next_token(&next, 5000);
    assert_int_equal(gh_store_refresh_rotate(&f->h, t2.hash, &next, 300, &spent), GH_OK);
    assert_int_equal(gh_store_session_get(&f->h, s2.hash, 301, &got), GH_OK);
    feed = feed_count(f, a.id);
    next_token(&again, 5000);
    assert_int_equal(gh_store_refresh_rotate(&f->h, t2.hash, &again, 302, &spent), GH_ERR_REUSED);
    assert_int_equal(gh_store_session_get(&f->h, s2.hash, 303, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(feed_count(f, a.id), feed + 1);

    /* logout-all, a password change with bump, disabling: every session of the user */
    struct gh_session s3, s4, s5;
    struct gh_refresh_token t3, t4, t5;
    int64_t epoch = 0;
    add_session(f, a.id, &s3, &t3);
    assert_int_equal(gh_store_user_revoke_all(&f->h, a.id, 400, &epoch), GH_OK);
    assert_int_equal(gh_store_session_get(&f->h, s3.hash, 401, &got), GH_ERR_NOT_FOUND);
    add_session(f, a.id, &s4, &t4);
    assert_int_equal(gh_store_user_set_password(&f->h, a.id, FAKE_HASH, 1, 500, &epoch), GH_OK);
    assert_int_equal(gh_store_session_get(&f->h, s4.hash, 501, &got), GH_ERR_NOT_FOUND);
    add_session(f, a.id, &s5, &t5);
    assert_int_equal(gh_store_user_set_disabled(&f->h, a.id, 1, 600, &epoch), GH_OK);
    assert_int_equal(gh_store_session_get(&f->h, s5.hash, 601, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(session_count(f, a.id, 700), 0);
    /* bob's was untouched; deleting bob deletes it */
    assert_int_equal(gh_store_session_get(&f->h, sb.hash, 700, &got), GH_OK);
    assert_int_equal(gh_store_user_delete(&f->h, b.id, 800), GH_OK);
    assert_int_equal(gh_store_session_get(&f->h, sb.hash, 801, &got), GH_ERR_NOT_FOUND);

    int64_t purged = 0;
    assert_int_equal(gh_store_session_purge(&f->h, 10000, &purged), GH_OK);
    assert_true(purged >= 5);
}

/* A re-authentication moves the session's and its live refresh family's auth_time, which a
 * rotation then keeps; another user's session id is not found. */
static void sessions_reauth_moves_auth_time(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, b;
    struct gh_session s, sb, got;
    struct gh_refresh_token t, tb, next, spent;
    add_user(f, "alice", "alice@x.io", &a);
    add_user(f, "bob", "bob@x.io", &b);
    add_session(f, a.id, &s, &t);
    add_session(f, b.id, &sb, &tb);
    assert_int_equal(gh_store_session_get(&f->h, s.hash, 150, &got), GH_OK);
    assert_int_equal(got.auth_time, 0);

    assert_int_equal(gh_store_session_reauth(&f->h, a.id, sb.id, 200), GH_ERR_NOT_FOUND);
    int64_t feed = feed_count(f, a.id);
    assert_int_equal(gh_store_session_reauth(&f->h, a.id, s.id, 200), GH_OK);
    assert_int_equal(feed_count(f, a.id), feed + 1);
    assert_int_equal(gh_store_session_get(&f->h, s.hash, 201, &got), GH_OK);
    assert_int_equal(got.auth_time, 200);
    assert_int_equal(gh_store_session_get(&f->h, sb.hash, 201, &got), GH_OK);
    assert_int_equal(got.auth_time, 0);

    next_token(&next, 5000);
    next.auth_time = 999; /* the store keeps the family's, not the caller's */
    assert_int_equal(gh_store_refresh_rotate(&f->h, t.hash, &next, 300, &spent), GH_OK);
    assert_int_equal(spent.auth_time, 200);
    assert_int_equal(next.auth_time, 200);
    struct gh_refresh_token live;
    assert_int_equal(gh_store_refresh_get(&f->h, next.hash, 301, &live), GH_OK);
    assert_int_equal(live.auth_time, 200);

    /* a revoked session is not re-authenticated */
    assert_int_equal(gh_store_session_revoke(&f->h, a.id, s.id, 400), GH_OK);
    assert_int_equal(gh_store_session_reauth(&f->h, a.id, s.id, 401), GH_ERR_NOT_FOUND);
}

static void mfa_setup_enable_steps_and_codes(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, b;
    struct gh_mfa m, got;
    add_user(f, "alice", "alice@x.io", &a);
    add_user(f, "bob", "bob@x.io", &b);
    assert_int_equal(gh_store_mfa_get(&f->h, a.id, &got), GH_ERR_NOT_FOUND);
    memset(&m, 0, sizeof(m));
    snprintf(m.user_id, sizeof(m.user_id), "%s", a.id);
    snprintf(m.secret, sizeof(m.secret), "sealed-one");
    m.created_at = 100;
    assert_int_equal(gh_store_mfa_put(&f->h, &m), GH_OK);
    snprintf(m.secret, sizeof(m.secret), "sealed-two"); /* a second setup replaces it */
    assert_int_equal(gh_store_mfa_put(&f->h, &m), GH_OK);
    assert_int_equal(gh_store_mfa_get(&f->h, a.id, &got), GH_OK);
    assert_string_equal(got.secret, "sealed-two");
    assert_int_equal(got.enabled, 0);
    /* steps are refused before it is enabled */
    assert_int_equal(gh_store_mfa_use_step(&f->h, a.id, 10), GH_ERR_NOT_FOUND);

    unsigned char codes[GH_BACKUP_CODES][GH_HASH_LEN];
    randombytes_buf(codes, sizeof(codes));
    assert_int_equal(gh_store_mfa_enable(&f->h, b.id, 9, codes), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_mfa_enable(&f->h, a.id, 9, codes), GH_OK);
    assert_int_equal(gh_store_mfa_enable(&f->h, a.id, 9, codes), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_mfa_get(&f->h, a.id, &got), GH_OK);
    assert_int_equal(got.enabled, 1);
    assert_int_equal(got.last_step, 9);
    /* an enabled factor is not replaced by a new setup */
    assert_int_equal(gh_store_mfa_put(&f->h, &m), GH_ERR_CONFLICT);

    /* steps: forward only */
    assert_int_equal(gh_store_mfa_use_step(&f->h, a.id, 9), GH_ERR_REUSED);
    assert_int_equal(gh_store_mfa_use_step(&f->h, a.id, 10), GH_OK);
    assert_int_equal(gh_store_mfa_use_step(&f->h, a.id, 10), GH_ERR_REUSED);
    assert_int_equal(gh_store_mfa_use_step(&f->h, a.id, 8), GH_ERR_REUSED);
    assert_int_equal(gh_store_mfa_use_step(&f->h, b.id, 10), GH_ERR_NOT_FOUND);

    /* backup codes: single use, the owner's only */
    int64_t left = -1;
    assert_int_equal(gh_store_mfa_use_backup(&f->h, b.id, codes[0], 200, &left), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_mfa_use_backup(&f->h, a.id, codes[0], 200, &left), GH_OK);
    assert_int_equal(left, GH_BACKUP_CODES - 1);
    assert_int_equal(gh_store_mfa_use_backup(&f->h, a.id, codes[0], 201, &left), GH_ERR_NOT_FOUND);
    unsigned char unknown[GH_HASH_LEN];
    randombytes_buf(unknown, sizeof(unknown));
    assert_int_equal(gh_store_mfa_use_backup(&f->h, a.id, unknown, 201, &left), GH_ERR_NOT_FOUND);

    assert_int_equal(gh_store_mfa_delete(&f->h, a.id), GH_OK);
    assert_int_equal(gh_store_mfa_get(&f->h, a.id, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_mfa_use_backup(&f->h, a.id, codes[1], 202, &left), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_mfa_delete(&f->h, a.id), GH_OK);
    memset(&m, 0, sizeof(m));
    snprintf(m.user_id, sizeof(m.user_id), "no-such-user");
    snprintf(m.secret, sizeof(m.secret), "x");
    assert_int_equal(gh_store_mfa_put(&f->h, &m), GH_ERR_NOT_FOUND);
}

static void mfa_challenges_are_single_use(void **state)
{
    struct fixture *f = *state;
    struct gh_user a;
    struct gh_mfa_challenge c, got;
    add_user(f, "alice", "alice@x.io", &a);
    memset(&c, 0, sizeof(c));
    randombytes_buf(c.hash, sizeof(c.hash));
    snprintf(c.user_id, sizeof(c.user_id), "%s", a.id);
    c.created_at = 100;
    c.expires_at = 400;
    assert_int_equal(gh_store_mfa_challenge_add(&f->h, &c), GH_OK);
    assert_int_equal(gh_store_mfa_challenge_add(&f->h, &c), GH_ERR_CONFLICT);
    assert_int_equal(gh_store_mfa_challenge_get(&f->h, c.hash, 200, &got), GH_OK);
    assert_string_equal(got.user_id, a.id);
    assert_string_equal(got.org_id, "");
    assert_int_equal(got.expires_at, 400);
    assert_int_equal(gh_store_mfa_challenge_get(&f->h, c.hash, 400, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_mfa_challenge_spend(&f->h, c.hash, 400), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_mfa_challenge_spend(&f->h, c.hash, 200), GH_OK);
    assert_int_equal(gh_store_mfa_challenge_spend(&f->h, c.hash, 201), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_mfa_challenge_get(&f->h, c.hash, 201, &got), GH_ERR_NOT_FOUND);
}

#endif
