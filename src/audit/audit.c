#include "audit/audit.h"

#include <time.h>
#include "core/log.h"

gh_err gh_audit_record(const struct gh_store_handle *store, const char *action,
                       const struct gh_reqmeta *meta, const struct gh_audit_subject *subject,
                       int status, const char *metadata_json)
{
    struct gh_audit_event ev = {
        .ts = (int64_t)time(NULL),
        .action = action,
        .status = status,
        .metadata_json = metadata_json,
    };
    if (meta != NULL) {
        ev.ip_address = meta->ip;
        ev.user_agent = meta->user_agent;
        ev.method = meta->method;
        ev.path = meta->path;
    }
    if (subject != NULL) {
        ev.user_id = subject->user_id;
        ev.username = subject->username;
        ev.org_id = subject->org_id;
    }
    gh_err err = store->ops->audit_append(store->st, &ev);
    if (err != GH_OK)
        gh_log(GH_LOG_ERROR, "audit: could not record %s: %s", action, gh_err_name(err));
    return err;
}
