/*
 * libFuzzer target: the backup file as `gatehouse backup restore` reads it: the header
 * (gh_backup_header_parse), the body (gh_backup_read, a fixed master key and passphrase),
 * and the payload's sections (gh_backup_sections: every name visited is one a restore may
 * write, nothing is visited when any section is bad, lengths stay within the payload).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/backup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

struct walk {
    const uint8_t *payload;
    size_t len;
};

static int visit(void *arg, const struct gh_backup_section *s)
{
    const struct walk *w = arg;
    check(s->data >= w->payload && s->data + s->len <= w->payload + w->len);
    check(s->name[0] != '\0' && s->name[0] != '/' && s->name[0] != '.');
    check(strstr(s->name, "..") == NULL && strstr(s->name, "/.") == NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t master[GH_MASTER_KEY_LEN] = {1};
    struct gh_backup_header h;
    uint8_t *payload = NULL;
    size_t len = 0;
    if (gh_backup_header_parse(data, size, &h) != GH_OK) {
        check(size < GH_BACKUP_HEADER_LEN || memcmp(data, "GHBACKUP", 8) != 0 || data[9] > 2 ||
              data[10] != 0 || data[11] != 0);
        return 0;
    }
    /* Argon2id costs are the file's: keep the fuzzer to the cheap modes. */
    if (h.mode == GH_BACKUP_PASSPHRASE)
        return 0;
    struct gh_backup_key key = {master, NULL};
    if (gh_backup_read(data, size, &key, &payload, &len) != GH_OK)
        return 0;
    struct walk w = {payload, len};
    (void)gh_backup_sections(payload, len, visit, &w);
    gh_backup_free_payload(payload, len);
    return 0;
}
