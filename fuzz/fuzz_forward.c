/*
 * libFuzzer target: the client address a trusted proxy names (edge/forward.c): one hop
 * ("ADDR", "IPv4:PORT", "[IPv6]", "[IPv6]:PORT") and the X-Forwarded-For walk. Reads stay
 * inside the input; an address read from a hop holds no blank or ','; the walk's answer,
 * written in canonical text, reads back to the same 16 bytes.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/forward.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

/* addr written as an address the hop parser reads (IPv6 in brackets, with a port). */
static void reads_back(const uint8_t addr[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char text[80];
    uint8_t again[16];
    if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
        check(inet_ntop(AF_INET, addr + 12, text, sizeof(text) - 8) != NULL);
        memcpy(text + strlen(text), ":8080", 6);
    } else {
        text[0] = '[';
        check(inet_ntop(AF_INET6, addr, text + 1, sizeof(text) - 8) != NULL);
        memcpy(text + strlen(text), "]:443", 6);
    }
    check(gh_forward_hop_parse(text, strlen(text), again) == GH_OK);
    check(memcmp(addr, again, 16) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gh_cidr_list trusted;
    static int ready;
    if (!ready) {
        size_t bad = 0;
        check(gh_cidr_list_parse("127.0.0.0/8, 10.0.0.0/8, ::1/128", &trusted, &bad) == GH_OK);
        ready = 1;
    }
    uint8_t addr[16];
    /* The hop parser takes a length: give it the bytes as they are, NULs included. */
    char *copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (gh_forward_hop_parse(copy, size, addr) == GH_OK) {
        check(memchr(copy, ',', size) == NULL && memchr(copy, ' ', size) == NULL);
        reads_back(addr);
    }
    copy[size] = '\0';
    if (gh_forward_xff_client(copy, &trusted, addr) == GH_OK)
        reads_back(addr);
    free(copy);
    return 0;
}
