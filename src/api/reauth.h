#ifndef GH_API_REAUTH_H
#define GH_API_REAUTH_H

#include "http/http.h"

/*
 * The re-authentication window (auth.reauth_window) of dangerous actions: deleting users
 * or orgs, granting an admin role, disabling a user (which revokes every key and session
 * of theirs), changing SSO providers.
 */

/**
 * For a proven caller (gh_api_identity): 0 when its sign-in is younger than
 * auth.reauth_window, or it is an API key auth.reauth_automations names; otherwise
 * answers 403 reauth_required (details: where to re-authenticate), audits
 * REAUTH_REQUIRED and returns 1. Other API keys never pass: they cannot re-authenticate.
 */
int gh_api_reauth_refused(struct gh_req *req) GH_NONNULL(1);

#endif
