/* POST /api/v1/sql/validate: is this SQL one read-only query? (edge/sqlcheck) */
#include "api/app.h"
#include "api/handlers.h"
#include "edge/sqlcheck.h"

void gh_h_sql_validate(struct gh_req *req)
{
    const char *sql;
    size_t len;
    if (gh_api_string_field(req, "sql", 1, &sql, &len))
        return;
    struct gh_sql_verdict v;
    gh_err err = gh_sql_check(sql, len, &v);
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    gh_reply_json(req, 200, json_pack("{s:b, s:s}", "allowed", v.allowed, "reason", v.reason));
}
