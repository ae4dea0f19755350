#ifndef GH_AUDIT_APPEVENT_H
#define GH_AUDIT_APPEVENT_H

#include <stdint.h>
#include "core/err.h"
#include "audit/audit.h"

/*
 * The applications' own audit events (POST /api/v1/audit/events): records an app writes
 * into the same chain as Gatehouse's, under action names Gatehouse does not use itself.
 * Who wrote the record (the caller's identity, address and user agent) is taken from
 * the request by the caller of this module, never from the app's body.
 */

#define GH_APPEVENT_ACTION_MAX 64         /* bytes of an action name */
#define GH_APPEVENT_FIELD_MAX 256         /* bytes of resource_type and resource_id */
#define GH_APPEVENT_METADATA_MAX 8192     /* bytes of the app's metadata object, compact JSON */
#define GH_APPEVENT_STATUS_MAX 999        /* status is 0 (none) or 100..999 */
#define GH_APPEVENT_DURATION_MAX 86400000 /* duration_ms: at most a day */

/** 1 when name is one of Gatehouse's own audit actions (audit/appevent.c keeps the list). */
int gh_audit_action_is_own(const char *name) GH_NONNULL(1);

/** 1 when name is 1 to GH_APPEVENT_ACTION_MAX characters of [A-Z0-9_], starting with A-Z. */
int gh_audit_action_valid(const char *name) GH_NONNULL(1);

/** An application's event, as its caller validated the request's body. */
struct gh_appevent {
    const char *action;        /* upper snake case, not one of Gatehouse's own */
    const char *resource_type; /* NULL or 1..GH_APPEVENT_FIELD_MAX printable bytes */
    const char *resource_id;   /* the same */
    const char *user_id;       /* the user the event is about: a member of org_id */
    const char *username;      /* that user's name when known (the caller's), else NULL */
    int by_caller;             /* user_id is the caller itself: no membership to check */
    const char *org_id;        /* the org the event belongs to (the caller may write there) */
    int status;                /* 0: none */
    const char *metadata_json; /* the record's metadata object as text, or NULL */
};

/** Which field of an event is unacceptable, for the answer's details. */
enum gh_appevent_field {
    GH_APPEVENT_OK,
    GH_APPEVENT_ACTION,        /* malformed, or one of Gatehouse's own names */
    GH_APPEVENT_RESOURCE_TYPE, /* empty, too long or with control characters */
    GH_APPEVENT_RESOURCE_ID,
    GH_APPEVENT_USER_ID, /* not a member of the event's org */
    GH_APPEVENT_STATUS,
};

/**
 * Appends ev, with the request's origin meta, to the audit chain of store through the
 * grouped writer (gh_audit_append_grouped). *seq gets the record's id. GH_ERR_INVALID
 * with *bad naming the field for an unacceptable event (a user_id not the
 * caller's must be a member of org_id); GH_ERR_IO / GH_ERR_BUSY when storage fails.
 */
gh_err gh_appevent_record(const struct gh_store_handle *store, const struct gh_appevent *ev,
                          const struct gh_reqmeta *meta, int64_t *seq,
                          enum gh_appevent_field *bad) GH_WUR GH_NONNULL(1, 2, 3, 4, 5);

#endif
