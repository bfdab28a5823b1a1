/* script.c -- a script written by a test, loaded into a policy. */
#include "script.h"

#include "proc.h"
#include "test.h"

policy *unit_load_script(const char *name, const char *text,
                         const policy_opts *opts)
{
    char path[128], err[512];
    snprintf(path, sizeof path, "unit_lua_%llu_%s.lua",
             (unsigned long long)proc_id(), name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        TEST_FAIL("cannot write %s", path);
    ASSERT(fputs(text, f) >= 0);
    ASSERT_EQ(fclose(f), 0);
    policy *p = policy_load(path, opts, err, sizeof err);
    remove(path);
    if (p == NULL)
        TEST_FAIL("policy_load %s: %s", name, err);
    ASSERT_STR_EQ(policy_path(p), path);
    return p;
}
