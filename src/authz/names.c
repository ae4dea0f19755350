#include "authz/names.h"

#include <string.h>
#include <strings.h>

int gh_authz_org_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    if (strcasecmp(s, "default") == 0)
        return 0; /* names repeat, this one never: registration joins the org by it */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ' ' || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int gh_authz_role_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}
