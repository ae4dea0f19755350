#include "authn/totp.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <liboath/oath.h>
#include <sodium.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int oath_ready;

static void init_oath(void)
{
    oath_ready = oath_init() == OATH_OK;
}

gh_err gh_totp_code(const unsigned char *key, size_t len, int64_t step, unsigned digits,
                    char out[9])
{
    char code[9];
    if (len == 0 || len > 64 || digits < 6 || digits > 8 || step < 0)
        return GH_ERR_INVALID;
    (void)pthread_once(&once, init_oath);
    if (!oath_ready)
        return GH_ERR_CRYPTO;
    /* liboath takes a time and divides it by the step size itself. */
    if (oath_totp_generate((const char *)key, len, (time_t)(step * GH_TOTP_STEP), GH_TOTP_STEP,
                           OATH_TOTP_DEFAULT_START_TIME, digits, code) != OATH_OK)
        return GH_ERR_CRYPTO;
    memcpy(out, code, digits + 1);
    sodium_memzero(code, sizeof(code));
    return GH_OK;
}

gh_err gh_totp_match(const unsigned char *key, size_t len, int64_t now, const char *code,
                     int64_t *step)
{
    if (strlen(code) != GH_TOTP_DIGITS || strspn(code, "0123456789") != GH_TOTP_DIGITS)
        return GH_ERR_INVALID;
    int64_t current = now / GH_TOTP_STEP, found = -1;
    gh_err err = GH_OK;
    for (int64_t s = current - 1; s <= current + 1 && err == GH_OK; s++) {
        char want[9];
        if ((err = gh_totp_code(key, len, s, GH_TOTP_DIGITS, want)) != GH_OK)
            break;
        /* no early exit: the time taken does not say which step matched */
        int same = sodium_memcmp(want, code, GH_TOTP_DIGITS) == 0;
        found = same ? s : found;
        sodium_memzero(want, sizeof(want));
    }
    if (err != GH_OK)
        return err;
    if (found < 0)
        return GH_ERR_AUTH;
    *step = found;
    return GH_OK;
}

gh_err gh_totp_secret_text(const unsigned char key[GH_TOTP_KEY_LEN], char out[GH_TOTP_SECRET_TEXT])
{
    char *text = NULL;
    size_t n = 0;
    (void)pthread_once(&once, init_oath);
    if (!oath_ready)
        return GH_ERR_CRYPTO;
    if (oath_base32_encode((const char *)key, GH_TOTP_KEY_LEN, &text, &n) != OATH_OK)
        return GH_ERR_CRYPTO;
    gh_err err = GH_ERR_INTERNAL;
    if (n == GH_TOTP_SECRET_TEXT - 1) { /* 20 bytes need no padding */
        memcpy(out, text, n + 1);
        err = GH_OK;
    }
    sodium_memzero(text, n);
    free(text);
    return err;
}
