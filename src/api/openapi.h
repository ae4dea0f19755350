#ifndef GH_API_OPENAPI_H
#define GH_API_OPENAPI_H

#include <stddef.h>

/* docs/openapi.json, compiled in by the Makefile (build/gen/openapi_doc.c): GET
 * /openapi.json serves it; tests/integration/test_openapi.py holds it to the route table. */
extern const char gh_openapi_json[];
extern const size_t gh_openapi_json_len;

#endif
