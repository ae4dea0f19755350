#include "audit/audit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/log.h"

static gh_audit_observer observer;
static void *observer_arg;

void gh_audit_set_observer(gh_audit_observer fn, void *arg)
{
    observer = fn;
    observer_arg = arg;
}

static void observe(const struct gh_audit_event *ev)
{
    if (observer != NULL)
        observer(observer_arg, ev);
}

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
    else
        observe(&ev);
    return err;
}

/* A deferred record: the fields point into text, one allocation with the job. */
struct deferred {
    const struct gh_store_handle *store;
    struct gh_audit_event ev;
    char text[];
};

static void write_deferred(void *arg)
{
    struct deferred *d = arg;
    if (d->store->ops->audit_append(d->store->st, &d->ev) != GH_OK)
        gh_log(GH_LOG_ERROR, "audit: could not record %s", d->ev.action);
    else
        observe(&d->ev);
    free(d);
}

/* Copies s to *at and returns the copy (NULL stays NULL). */
static const char *put(char **at, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*at, s, n);
    const char *copy = *at;
    *at += n;
    return copy;
}

static size_t len0(const char *s)
{
    return s == NULL ? 0 : strlen(s) + 1;
}

void gh_audit_record_async(struct gh_pool *pool, const struct gh_store_handle *store,
                           const char *action, const struct gh_reqmeta *meta,
                           const struct gh_audit_subject *subject, int status,
                           const char *metadata_json)
{
    static const struct gh_reqmeta none_meta;
    static const struct gh_audit_subject none_subject;
    const struct gh_reqmeta *m = meta ? meta : &none_meta;
    const struct gh_audit_subject *sub = subject ? subject : &none_subject;
    size_t n = len0(action) + len0(m->ip) + len0(m->user_agent) + len0(m->method) +
               len0(m->path) + len0(sub->user_id) + len0(sub->username) + len0(sub->org_id) +
               len0(metadata_json);
    struct deferred *d = malloc(sizeof(*d) + n);
    if (d == NULL) {
        (void)gh_audit_record(store, action, meta, subject, status, metadata_json);
        return;
    }
    char *at = d->text;
    d->store = store;
    d->ev = (struct gh_audit_event){
        .ts = (int64_t)time(NULL),
        .action = put(&at, action),
        .ip_address = put(&at, m->ip),
        .user_agent = put(&at, m->user_agent),
        .method = put(&at, m->method),
        .path = put(&at, m->path),
        .user_id = put(&at, sub->user_id),
        .username = put(&at, sub->username),
        .org_id = put(&at, sub->org_id),
        .status = status,
        .metadata_json = put(&at, metadata_json),
    };
    if (gh_pool_submit(pool, write_deferred, d) != GH_OK)
        write_deferred(d);
}
