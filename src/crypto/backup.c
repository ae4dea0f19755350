/* The backup file format (crypto/backup.h). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/backup.h"

#define MAGIC "GHBACKUP"
#define CHUNK 65536
#define SS_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

_Static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == 32, "a 32-byte stream key");

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

gh_err gh_backup_header_parse(const uint8_t *file, size_t n, struct gh_backup_header *out)
{
    struct gh_backup_header h;
    if (n < GH_BACKUP_HEADER_LEN || memcmp(file, MAGIC, 8) != 0 || file[9] > GH_BACKUP_PASSPHRASE ||
        file[10] != 0 || file[11] != 0)
        return GH_ERR_INVALID;
    h.version = file[8];
    h.mode = (enum gh_backup_mode)file[9];
    h.argon2.ops = (uint32_t)get_be(file + 12, 4);
    h.argon2.mem_kib = (uint32_t)get_be(file + 16, 4);
    memcpy(h.argon2.salt, file + 20, GH_KDF_SALT_LEN);
    *out = h;
    return GH_OK;
}

static void header_write(const struct gh_backup_header *h, uint8_t out[GH_BACKUP_HEADER_LEN])
{
    memcpy(out, MAGIC, 8);
    out[8] = (uint8_t)h->version;
    out[9] = (uint8_t)h->mode;
    out[10] = out[11] = 0;
    put_be(out + 12, h->argon2.ops, 4);
    put_be(out + 16, h->argon2.mem_kib, 4);
    memcpy(out + 20, h->argon2.salt, GH_KDF_SALT_LEN);
}

/* The stream key of h from key. GH_ERR_INVALID no key of h's mode. */
static gh_err stream_key(const struct gh_backup_header *h, const struct gh_backup_key *key,
                         uint8_t out[32])
{
    static const char info[] = "gatehouse/v1/backup";
    if (h->mode == GH_BACKUP_MASTER && key->master != NULL)
        return gh_kdf_hkdf(key->master, GH_MASTER_KEY_LEN, h->argon2.salt, GH_KDF_SALT_LEN,
                           (const uint8_t *)info, sizeof(info) - 1, out, 32);
    if (h->mode == GH_BACKUP_PASSPHRASE && key->passphrase != NULL)
        return gh_kdf_argon2id(key->passphrase, strlen(key->passphrase), &h->argon2, out, 32);
    return GH_ERR_INVALID;
}

static int name_ok(const char *name, size_t n)
{
    if (n == 0 || n > GH_BACKUP_NAME_MAX || name[0] == '/' || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == '/'))
            return 0;
        if (c == '.' && i > 0 && name[i - 1] == '.')
            return 0; /* no ".." */
        if (c == '.' && i > 0 && name[i - 1] == '/')
            return 0; /* no hidden names, no "/./" */
    }
    return name[n - 1] != '/';
}

/* The payload of the sections into a new buffer. */
static gh_err payload_build(const struct gh_backup_section *s, size_t n, uint8_t **out, size_t *len)
{
    size_t total = 2;
    for (size_t i = 0; i < n; i++) {
        size_t name = strlen(s[i].name);
        if (!name_ok(s[i].name, name) || s[i].len > SIZE_MAX / 2 - total - name - 10)
            return GH_ERR_INVALID;
        total += 2 + name + 8 + s[i].len;
    }
    uint8_t *p = malloc(total), *o = p;
    if (p == NULL)
        return GH_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t name = strlen(s[i].name);
        put_be(o, name, 2);
        memcpy(o + 2, s[i].name, name);
        put_be(o + 2 + name, s[i].len, 8);
        memcpy(o + 10 + name, s[i].data, s[i].len);
        o += 10 + name + s[i].len;
    }
    put_be(o, 0, 2);
    *out = p;
    *len = total;
    return GH_OK;
}

void gh_backup_free_payload(uint8_t *payload, size_t len)
{
    if (payload == NULL)
        return;
    sodium_memzero(payload, len);
    free(payload);
}

/* The encrypted body of payload after hdr into out (sized by the caller). */
static gh_err seal_stream(const uint8_t key[32], const uint8_t hdr[GH_BACKUP_HEADER_LEN],
                          const uint8_t *payload, size_t len, void (*progress)(size_t, size_t),
                          uint8_t *out, size_t *out_len)
{
    crypto_secretstream_xchacha20poly1305_state st;
    size_t o = 0, done = 0;
    crypto_secretstream_xchacha20poly1305_init_push(&st, out, key);
    o = SS_HEADER;
    do {
        size_t take = len - done < CHUNK ? len - done : CHUNK;
        unsigned char tag = done + take == len ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                               : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
        unsigned long long clen = 0;
        crypto_secretstream_xchacha20poly1305_push(&st, out + o + 4, &clen, payload + done, take,
                                                   done == 0 ? hdr : NULL,
                                                   done == 0 ? GH_BACKUP_HEADER_LEN : 0, tag);
        put_be(out + o, clen, 4);
        o += 4 + (size_t)clen;
        done += take;
        if (progress != NULL)
            progress(done, len);
    } while (done < len);
    sodium_memzero(&st, sizeof(st));
    *out_len = o;
    return GH_OK;
}

gh_err gh_backup_write(const struct gh_backup_section *s, size_t n, enum gh_backup_mode mode,
                       const struct gh_backup_key *key, const struct gh_kdf_argon2 *argon2,
                       void (*progress)(size_t done, size_t total), uint8_t **out, size_t *out_len)
{
    struct gh_backup_header h = {GH_BACKUP_VERSION, mode, {0, 0, {0}}};
    uint8_t *payload = NULL, *file = NULL, skey[32];
    size_t len = 0, body = 0;
    if (mode == GH_BACKUP_PASSPHRASE && argon2 != NULL) {
        h.argon2.ops = argon2->ops;
        h.argon2.mem_kib = argon2->mem_kib;
    }
    randombytes_buf(h.argon2.salt, sizeof(h.argon2.salt));
    gh_err err = payload_build(s, n, &payload, &len);
    if (err == GH_OK && mode != GH_BACKUP_PLAIN)
        err = stream_key(&h, key, skey);
    /* Chunks: their count times the overhead, plus the stream header (or the digest). */
    size_t cap = GH_BACKUP_HEADER_LEN + len + (len / CHUNK + 1) * (4 + SS_ABYTES) + SS_HEADER +
                 crypto_hash_sha256_BYTES;
    if (err == GH_OK && (file = malloc(cap)) == NULL)
        err = GH_ERR_NOMEM;
    if (err != GH_OK)
        goto out;
    header_write(&h, file);
    if (mode == GH_BACKUP_PLAIN) {
        memcpy(file + GH_BACKUP_HEADER_LEN, payload, len);
        crypto_hash_sha256(file + GH_BACKUP_HEADER_LEN + len, file, GH_BACKUP_HEADER_LEN + len);
        body = len + crypto_hash_sha256_BYTES;
        if (progress != NULL)
            progress(len, len);
    } else {
        err = seal_stream(skey, file, payload, len, progress, file + GH_BACKUP_HEADER_LEN, &body);
    }
out:
    sodium_memzero(skey, sizeof(skey));
    gh_backup_free_payload(payload, len);
    if (err != GH_OK) {
        free(file);
        return err;
    }
    *out = file;
    *out_len = GH_BACKUP_HEADER_LEN + body;
    return GH_OK;
}

/* Opens the encrypted body (n bytes after the header hdr) into a new payload. */
static gh_err open_stream(const uint8_t key[32], const uint8_t *hdr, const uint8_t *body, size_t n,
                          uint8_t **payload, size_t *len)
{
    crypto_secretstream_xchacha20poly1305_state st;
    size_t i = SS_HEADER, o = 0;
    unsigned char tag = 0;
    gh_err err = GH_ERR_INVALID;
    if (n < SS_HEADER + 4 + SS_ABYTES)
        return GH_ERR_INVALID;
    uint8_t *p = malloc(n); /* the payload is shorter than its sealed body */
    if (p == NULL)
        return GH_ERR_NOMEM;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&st, body, key) != 0)
        goto out;
    while (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
        if (n - i < 4)
            goto out; /* truncated: no final chunk */
        size_t clen = (size_t)get_be(body + i, 4);
        unsigned long long mlen = 0;
        if (clen < SS_ABYTES || clen > CHUNK + SS_ABYTES || n - i - 4 < clen)
            goto out;
        if (crypto_secretstream_xchacha20poly1305_pull(
                &st, p + o, &mlen, &tag, body + i + 4, clen, o == 0 && i == SS_HEADER ? hdr : NULL,
                i == SS_HEADER ? GH_BACKUP_HEADER_LEN : 0) != 0) {
            err = GH_ERR_AUTH;
            goto out;
        }
        o += (size_t)mlen;
        i += 4 + clen;
    }
    if (i != n)
        goto out; /* bytes after the final chunk */
    err = GH_OK;
out:
    sodium_memzero(&st, sizeof(st));
    if (err != GH_OK) {
        gh_backup_free_payload(p, n);
        return err;
    }
    *payload = p;
    *len = o;
    return GH_OK;
}

gh_err gh_backup_read(const uint8_t *file, size_t n, const struct gh_backup_key *key,
                      uint8_t **payload, size_t *len)
{
    struct gh_backup_header h;
    uint8_t skey[32], digest[crypto_hash_sha256_BYTES];
    gh_err err = gh_backup_header_parse(file, n, &h);
    if (err != GH_OK || h.version != GH_BACKUP_VERSION)
        return GH_ERR_INVALID;
    const uint8_t *body = file + GH_BACKUP_HEADER_LEN;
    size_t blen = n - GH_BACKUP_HEADER_LEN;
    if (h.mode == GH_BACKUP_PLAIN) {
        if (blen < crypto_hash_sha256_BYTES)
            return GH_ERR_INVALID;
        size_t plen = blen - crypto_hash_sha256_BYTES;
        crypto_hash_sha256(digest, file, GH_BACKUP_HEADER_LEN + plen);
        if (sodium_memcmp(digest, body + plen, sizeof(digest)) != 0)
            return GH_ERR_INVALID;
        uint8_t *p = malloc(plen ? plen : 1);
        if (p == NULL)
            return GH_ERR_NOMEM;
        memcpy(p, body, plen);
        *payload = p;
        *len = plen;
        return GH_OK;
    }
    if ((err = stream_key(&h, key, skey)) == GH_OK)
        err = open_stream(skey, file, body, blen, payload, len);
    sodium_memzero(skey, sizeof(skey));
    return err;
}

gh_err gh_backup_sections(const uint8_t *payload, size_t len,
                          int (*fn)(void *arg, const struct gh_backup_section *s), void *arg)
{
    /* Twice: first every section is checked, then the visit; a bad payload visits nothing. */
    for (int pass = 0; pass < 2; pass++) {
        size_t i = 0;
        for (;;) {
            if (len - i < 2)
                return GH_ERR_INVALID;
            size_t name = (size_t)get_be(payload + i, 2);
            if (name == 0) {
                if (i + 2 != len)
                    return GH_ERR_INVALID;
                break;
            }
            char buf[GH_BACKUP_NAME_MAX + 1];
            if (name > GH_BACKUP_NAME_MAX || len - i - 2 < name + 8)
                return GH_ERR_INVALID;
            memcpy(buf, payload + i + 2, name);
            buf[name] = '\0';
            uint64_t dlen = get_be(payload + i + 2 + name, 8);
            if (!name_ok(buf, name) || strlen(buf) != name || dlen > len - i - 10 - name)
                return GH_ERR_INVALID;
            struct gh_backup_section s = {buf, payload + i + 10 + name, (size_t)dlen};
            if (pass == 1 && fn(arg, &s) != 0)
                return GH_OK;
            i += 10 + name + (size_t)dlen;
        }
    }
    return GH_OK;
}
