#ifndef GH_STORE_PG_LIB_H
#define GH_STORE_PG_LIB_H

#include <libpq-fe.h>
#include "core/err.h"

/*
 * libpq, opened when the first PostgreSQL store opens (dlopen), not linked: with what it
 * links (OpenLDAP, Kerberos, GnuTLS) it cost every server about 3 MB of resident memory,
 * SQLite ones included. pg.c calls libpq only through gh_pq, whose members are libpq's
 * functions of the same name without the PQ prefix.
 */
struct gh_pq {
    __typeof__(&PQconnectdbParams) connectdbParams;
    __typeof__(&PQstatus) status;
    __typeof__(&PQerrorMessage) errorMessage;
    __typeof__(&PQsetNoticeProcessor) setNoticeProcessor;
    __typeof__(&PQreset) reset;
    __typeof__(&PQfinish) finish;
    __typeof__(&PQexec) exec;
    __typeof__(&PQexecParams) execParams;
    __typeof__(&PQprepare) prepare;
    __typeof__(&PQexecPrepared) execPrepared;
    __typeof__(&PQresultStatus) resultStatus;
    __typeof__(&PQresultErrorField) resultErrorField;
    __typeof__(&PQntuples) ntuples;
    __typeof__(&PQgetvalue) getvalue;
    __typeof__(&PQgetlength) getlength;
    __typeof__(&PQgetisnull) getisnull;
    __typeof__(&PQftype) ftype;
    __typeof__(&PQcmdTuples) cmdTuples;
    __typeof__(&PQcmdStatus) cmdStatus;
    __typeof__(&PQclear) clear;
};

extern struct gh_pq gh_pq;

/** Loads libpq.so.5 into gh_pq, once (thread-safe: later calls give the first outcome).
 * GH_ERR_IO it is not installed or lacks a function (logged). */
gh_err gh_pq_load(void) GH_WUR;

#endif
