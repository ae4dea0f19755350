/*
 * Unit tests for the metrics (src/audit/metrics.c): what several threads count, each in
 * its own part, is rendered as one total.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "audit/metrics.h"

#define THREADS 12 /* more than there are parts: some threads share one */
#define EACH 1000

static const char *const routes[] = {"GET /api/v1/auth/verify", "GET /healthz"};

static void *count_there(void *arg)
{
    struct gh_metrics *m = arg;
    for (int i = 0; i < EACH; i++) {
        gh_metrics_observe(m, 0, 200, 150); /* the 250 us bucket */
        gh_metrics_count(m, GH_API_KEY_SUCCESS);
    }
    return NULL;
}

static void totals_summed_over_threads(void **state)
{
    (void)state;
    struct gh_metrics *m;
    pthread_t t[THREADS];
    assert_int_equal(gh_metrics_new(routes, 2, &m), GH_OK);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, count_there, m), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    gh_metrics_observe(m, 1, 503, 30000); /* this thread's, in the 50 ms bucket */

    struct gh_buf out;
    gh_buf_init(&out, 1 << 20);
    assert_int_equal(gh_metrics_render(m, &out), GH_OK);
    assert_int_equal(gh_buf_append(&out, "", 1), GH_OK);
    const char *text = out.ptr;
    char want[160];
    snprintf(want, sizeof(want), "gatehouse_api_key_usage_total{status=\"success\"} %d\n",
             THREADS * EACH);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof(want), "gatehouse_requests_total{route=\"%s\",status=\"200\"} %d\n",
             routes[0], THREADS * EACH);
    assert_non_null(strstr(text, want));
    snprintf(
        want, sizeof(want),
        "gatehouse_request_duration_seconds_bucket{route=\"%s\",status=\"200\",le=\"0.0001\"} 0\n",
        routes[0]);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof(want),
             "gatehouse_request_duration_seconds_bucket{route=\"%s\",status=\"200\",le=\"0.00025\"}"
             " %d\n",
             routes[0], THREADS * EACH);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof(want),
             "gatehouse_request_duration_seconds_sum{route=\"%s\",status=\"200\"} %.6f\n",
             routes[0], THREADS * EACH * 150 / 1e6);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof(want), "gatehouse_requests_total{route=\"%s\",status=\"503\"} 1\n",
             routes[1]);
    assert_non_null(strstr(text, want));
    assert_null(strstr(text, "api_key_usage_total{status=\"failure\"} 1"));
    gh_buf_clear(&out);
    gh_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(totals_summed_over_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
