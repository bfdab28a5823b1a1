/* test_form.c -- form-encoded bodies: decoding, the errors, a merge. */
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "form.h"
#include "test.h"

void test_form_parse_merge(void)
{
    const char *why = "unset";
    const char *body = "a=1&&b=x+y%21&c";
    args_set *add = form_parse(body, strlen(body), &why);
    ASSERT(add != NULL);
    ASSERT(why == NULL);
    ASSERT_EQ(add->n, 3);
    ASSERT_STR_EQ(add->kv[0], "a=1");
    ASSERT_STR_EQ(add->kv[1], "b=x y!");
    ASSERT_STR_EQ(add->kv[2], "c");

    char *cur[] = {"z=9", "a=0"};
    args_set *all = form_merge(cur, 2, add);
    ASSERT(all != NULL);
    ASSERT_EQ(all->n, 4);
    ASSERT_STR_EQ(all->kv[0], "z=9");
    ASSERT_STR_EQ(all->kv[1], "a=1"); /* the posted value, in its place */
    ASSERT_STR_EQ(all->kv[2], "b=x y!");
    ASSERT_STR_EQ(all->kv[3], "c");
    form_free(all);
    form_free(add);
}

void test_form_errors(void)
{
    static const struct {
        const char *body, *why;
    } cases[] = {
        {"a=%4", "bad percent-encoding in the form body"},
        {"a=%zz", "bad percent-encoding in the form body"},
        {"a=%00", "NUL byte in the form body"},
        {"=v", "empty key in the form body"},
        {"a%3Db=1", "a key holds '=' (percent-encoded)"},
        {"&&", "no key=value pairs in the body"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *why = NULL;
        args_set *set = form_parse(cases[k].body, strlen(cases[k].body),
                                   &why);
        ASSERT(set == NULL);
        ASSERT(why != NULL);
        ASSERT_STR_EQ(why, cases[k].why);
    }
    char many[65 * 4 + 1];
    size_t n = 0;
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "%s%c", i ? "&k" : "k",
                              'a' + i % 26);
    const char *why = NULL;
    ASSERT(form_parse(many, n, &why) == NULL);
    ASSERT_STR_EQ(why, "over 64 key=value pairs");
}
