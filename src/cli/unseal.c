/*
 * gatehouse key unseal: reads shares from stdin, one per line, and posts each to the
 * running server's POST /api/v1/sys/unseal (server.listen, or --listen) until it says
 * it is unsealed. A plain HTTP/1.1 exchange over a loopback or admin address: one request
 * per connection, the answer read whole (bounded) and parsed as JSON.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <sodium.h>

#include "cli/cli.h"
#include "core/secure_json.h"

#define ANSWER_MAX 8192

/* The address to reach the server at: a wildcard listen address means this machine. */
static const char *connect_host(const char *listen)
{
    if (strcmp(listen, "0.0.0.0") == 0)
        return "127.0.0.1";
    if (strcmp(listen, "::") == 0)
        return "::1";
    return listen;
}

static int dial(const char *host, uint16_t port)
{
    char service[8];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *res = NULL;
    struct timeval tv = {10, 0};
    (void)snprintf(service, sizeof(service), "%u", (unsigned)port);
    if (getaddrinfo(connect_host(host), service, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
                    connect(fd, res->ai_addr, res->ai_addrlen) != 0)) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Posts {"share": line} and reads the answer: its status and JSON body (*body, owned). */
static int post_share(const struct gh_config *cfg, const char *line, int *status, json_t **body)
{
    json_t *req = json_pack("{s:s}", "share", line);
    char *text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
    char head[256], answer[ANSWER_MAX + 1];
    size_t got = 0;
    int fd = text != NULL ? dial(cfg->listen_host, cfg->listen_port) : -1, ok = -1;
    json_decref(req);
    if (fd < 0)
        goto out;
    int n = snprintf(head, sizeof(head),
                     "POST /api/v1/sys/unseal HTTP/1.1\r\nHost: gatehouse\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     strlen(text));
    if (write(fd, head, (size_t)n) != n || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        goto out;
    for (ssize_t r; got < ANSWER_MAX && (r = read(fd, answer + got, ANSWER_MAX - got)) > 0;)
        got += (size_t)r;
    answer[got] = '\0';
    const char *blank = strstr(answer, "\r\n\r\n");
    if (got < 12 || memcmp(answer, "HTTP/1.1 ", 9) != 0 || blank == NULL)
        goto out;
    *status = (answer[9] - '0') * 100 + (answer[10] - '0') * 10 + (answer[11] - '0');
    *body = json_loads(blank + 4, 0, NULL);
    ok = *body != NULL ? 0 : -1;
out:
    if (fd >= 0)
        close(fd);
    if (text != NULL)
        gh_secure_json_free(text);
    sodium_memzero(answer, sizeof(answer));
    return ok;
}

/* Prints what the server said of one share; 1 when it is unsealed now. */
static int report(int status, json_t *body, unsigned lineno)
{
    json_t *err = json_object_get(body, "error");
    if (status == 200) {
        int sealed = json_is_true(json_object_get(body, "sealed"));
        fprintf(stderr, "share %u accepted: %lld of %lld\n", lineno,
                (long long)json_integer_value(json_object_get(body, "shares")),
                (long long)json_integer_value(json_object_get(body, "threshold")));
        return !sealed;
    }
    const char *code = json_string_value(json_object_get(err, "code"));
    if (code != NULL && strcmp(code, "not_sealed") == 0) {
        fprintf(stderr, "the server is not sealed\n");
        return 1;
    }
    fprintf(stderr, "share %u refused: %s (%s)\n", lineno,
            json_string_value(json_object_get(err, "message")), code != NULL ? code : "?");
    return 0;
}

int gh_cli_unseal(struct gh_app *app)
{
    char line[256];
    unsigned lineno = 0;
    int unsealed = 0;
    setvbuf(stdin, NULL, _IONBF, 0); /* no copy of a share left in stdio's buffer */
    while (!unsealed && fgets(line, sizeof(line), stdin) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        int status = 0;
        json_t *body = NULL;
        if (post_share(&app->cfg, line, &status, &body) != 0) {
            fprintf(stderr, "gatehouse: cannot reach the server at %s:%u\n", app->cfg.listen_host,
                    (unsigned)app->cfg.listen_port);
            sodium_memzero(line, sizeof(line));
            return 1;
        }
        unsealed = report(status, body, lineno);
        json_decref(body);
    }
    sodium_memzero(line, sizeof(line));
    if (unsealed) {
        printf("unsealed\n");
        return 0;
    }
    fprintf(stderr, "gatehouse: still sealed: more shares are needed\n");
    return 1;
}
