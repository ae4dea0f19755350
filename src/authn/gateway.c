#include "authn/gateway.h"

#include <stdio.h>
#include <string.h>

#include "authn/service_int.h"
#include "authn/views.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "crypto/jwt.h"
#include "store/store.h"

/* The aud of a gateway token for audience: never the configured audience of access tokens. */
static gh_err gateway_aud(const char *audience, char aud[256])
{
    int n = snprintf(aud, 256, "gateway:%s", audience);
    return n > 0 && n < 256 ? GH_OK : GH_ERR_INVALID;
}

gh_err gh_gateway_mint(struct gh_auth *a, const struct gh_identity *who, const char *audience,
                       int64_t ttl, char **token)
{
    if (who->scoped)
        return GH_ERR_FORBIDDEN;
    if (ttl < 1 || ttl > GH_GATEWAY_TTL_MAX)
        return GH_ERR_INVALID;
    int64_t now = gh_time_now();
    struct gh_user_view view;
    struct gh_member_view mv;
    gh_err err = gh_views_user(a->views, who->user_id, now, &view);
    if (err == GH_OK)
        err = gh_views_member(a->views, who->user_id, who->org_id, &view, now, &mv);
    if (err != GH_OK)
        return err;
    struct gh_claims c;
    memset(&c, 0, sizeof(c));
    if (gateway_aud(audience, c.aud) != GH_OK ||
        gh_copy_field(c.iss, sizeof(c.iss), a->o.issuer) != GH_OK ||
        gh_copy_field(c.sub, sizeof(c.sub), who->user_id) != GH_OK ||
        gh_copy_field(c.org, sizeof(c.org), who->org_id) != GH_OK ||
        gh_copy_field(c.roles, sizeof(c.roles), who->roles) != GH_OK ||
        gh_copy_field(c.perms, sizeof(c.perms), who->perms) != GH_OK)
        return GH_ERR_INVALID;
    gh_uuid_v7(c.jti);
    c.iat = now;
    c.nbf = now;
    c.exp = now + ttl;
    c.epoch = view.epoch; /* the caller's epochs now: a revocation after this ends it */
    c.org_epoch = mv.epoch;
    return gh_jwt_sign(a->ring, &c, token);
}

gh_err gh_gateway_verify(struct gh_auth *a, const char *token, size_t len, const char *audience,
                         struct gh_identity *out)
{
    char aud[256];
    struct gh_claims c;
    int64_t now = gh_time_now();
    if (len == 0 || len > GH_JWT_MAX || gateway_aud(audience, aud) != GH_OK)
        return GH_ERR_AUTH;
    struct gh_jwt_expect expect = {a->o.issuer, aud, now, a->o.clock_leeway};
    gh_err err = gh_jwt_verify(a->ring, token, len, &expect, &c);
    if (err != GH_OK)
        return err == GH_ERR_EXPIRED ? GH_ERR_EXPIRED : GH_ERR_AUTH;
    if (c.exp - c.iat > GH_GATEWAY_TTL_MAX)
        return GH_ERR_AUTH; /* none of ours */
    return gh_auth_token_identity(a, c.sub, c.org, c.epoch, c.org_epoch, c.exp, now, out);
}
