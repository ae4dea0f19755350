/* core/qr: the SVG QR code of a text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/qr.h"

static void svg_is_one_element_without_style(void **state)
{
    (void)state;
    struct gh_buf b;
    gh_buf_init(&b, 1 << 20);
    assert_int_equal(gh_qr_svg("otpauth://totp/Gatehouse:alice?secret=GEZDGNBV&issuer=Gatehouse",
                               "QR code <for> \"alice\" & co", &b),
                     GH_OK);
    assert_true(strncmp(b.ptr, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", 53) ==
                0);
    assert_non_null(strstr(b.ptr, "aria-label=\"QR code &lt;for&gt; &quot;alice&quot; &amp; co\""));
    assert_non_null(strstr(b.ptr, "<path fill=\"#000\" d=\"M4 4h7v1h-7z"));
    assert_null(strstr(b.ptr, "style"));
    assert_string_equal(b.ptr + b.len - 9, "\"/></svg>");
    gh_buf_clear(&b);
}

static void too_long_or_capped(void **state)
{
    (void)state;
    struct gh_buf b;
    char *big = malloc(8000);
    assert_non_null(big);
    memset(big, 'a', 7999);
    big[7999] = '\0';
    gh_buf_init(&b, 1 << 20);
    assert_int_equal(gh_qr_svg(big, "x", &b), GH_ERR_TOO_LARGE);
    gh_buf_clear(&b);
    gh_buf_init(&b, 64);
    assert_int_equal(gh_qr_svg("short", "x", &b), GH_ERR_TOO_LARGE);
    gh_buf_clear(&b);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(svg_is_one_element_without_style),
        cmocka_unit_test(too_long_or_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
