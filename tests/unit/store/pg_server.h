/*
 * Test helper: a PostgreSQL server for a test binary. GH_TEST_PG_DSN names one to use;
 * otherwise a throwaway one is started in a temporary directory (tests/scripts/pgtmp.sh,
 * run from the repository's root as `make unit` does) and stopped at exit.
 */
#ifndef GH_TEST_PG_SERVER_H
#define GH_TEST_PG_SERVER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libpq-fe.h>

#include "tmpdir.h"

static char pg_dir[64];
static char pg_dsn[256];

/* Runs tests/scripts/pgtmp.sh verb dir (no shell); its first line of output into out
 * (may be NULL). 0 when it succeeded. */
static int pgtmp(const char *verb, const char *dir, char *out, size_t size)
{
    int fds[2], status = 0;
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl("tests/scripts/pgtmp.sh", "pgtmp.sh", verb, dir, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t got;
    char buf[256];
    while ((got = read(fds[0], buf, sizeof(buf))) > 0) {
        size_t take = out == NULL ? 0 : (size_t)got < size - 1 - n ? (size_t)got : size - 1 - n;
        if (take > 0)
            memcpy(out + n, buf, take);
        n += take;
    }
    close(fds[0]);
    if (out != NULL) {
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void pg_server_stop(void)
{
    if (pg_dir[0] == '\0')
        return;
    if (pgtmp("stop", pg_dir, NULL, 0) != 0)
        fprintf(stderr, "pg_server: stop failed\n");
    char *slash = strrchr(pg_dir, '/'); /* the temporary directory above the server's */
    if (slash != NULL)
        *slash = '\0';
    (void)remove_tree(pg_dir);
}

/* The DSN of a running server, or NULL when none could be had. */
static const char *pg_server_dsn(void)
{
    const char *env = getenv("GH_TEST_PG_DSN");
    if (env != NULL && env[0] != '\0')
        return env;
    if (pg_dsn[0] != '\0')
        return pg_dsn;
    snprintf(pg_dir, sizeof(pg_dir), "/tmp/gh-test-pg-XXXXXX");
    /* Searchable by the server's user (pgtmp.sh runs it as "postgres" under root). */
    if (mkdtemp(pg_dir) == NULL || chmod(pg_dir, 0711) != 0)
        return NULL;
    snprintf(pg_dir + strlen(pg_dir), sizeof(pg_dir) - strlen(pg_dir), "/pg");
    atexit(pg_server_stop);
    if (pgtmp("start", pg_dir, pg_dsn, sizeof(pg_dsn)) != 0 || pg_dsn[0] == '\0')
        return NULL;
    return pg_dsn;
}

/* Runs sql (constants) on dsn; 0 on success. */
static int pg_server_exec(const char *dsn, const char *sql)
{
    PGconn *pg = PQconnectdb(dsn);
    int ok = PQstatus(pg) == CONNECTION_OK;
    if (ok) {
        PGresult *quiet = PQexec(pg, "SET client_min_messages = warning");
        PQclear(quiet);
        PGresult *r = PQexec(pg, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            fprintf(stderr, "pg_server: %s", PQerrorMessage(pg));
        PQclear(r);
    }
    PQfinish(pg);
    return ok ? 0 : -1;
}

#endif
