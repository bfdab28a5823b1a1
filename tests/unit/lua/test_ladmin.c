/* test_ladmin.c -- POST /args's Lua side: pairs laid over ricochet.args
 * in place, on_args seeing them first and raising to keep the old ones,
 * flags, a script with no on_args under strict globals, the budget. */
#include <string.h>

#include "cases.h"
#include "ladmin.h"
#include "script.h"
#include "test.h"

static const char args_script[] =
    "local args = ricochet.args\n"
    "function on_args(new)\n"
    "  if new.check then\n"
    "    error('args.a=' .. tostring(args.a) .. ' new.a=' ..\n"
    "          tostring(new.a) .. ' flag=' .. tostring(new.flag) ..\n"
    "          ' keep=' .. tostring(args.keep), 0)\n"
    "  end\n"
    "  if new.a == 'bad' then error('bad a', 0) end\n"
    "  if new.a == 'spin' then while true do end end\n"
    "end\n";

/* Set the pairs; expect rc and, when it failed, err. */
static void set(policy *p, char *const *kv, int n, int rc, const char *err)
{
    char got[512] = "";
    ASSERT_EQ(ladmin_set_args(p, kv, n, got, sizeof got), rc);
    if (rc != 0)
        ASSERT_STR_EQ(got, err);
}

void test_ladmin_args(void)
{
    static char *cli[] = {"keep=yes"};
    policy_opts opts = {0};
    opts.hook_budget = 100000;
    opts.args = cli;
    opts.nargs = 1;
    policy *p = unit_load_script("ladmin_args", args_script, &opts);
    char *check[] = {"check"};
    char *a1[] = {"a=1"}, *bad[] = {"a=bad"}, *spin[] = {"a=spin"};
    char *flag_check[] = {"flag", "check"};
    set(p, a1, 1, 0, NULL);
    set(p, check, 1, -1, "args.a=1 new.a=1 flag=nil keep=yes");
    /* on_args raises: ricochet.args stays as it was */
    set(p, bad, 1, -1, "bad a");
    set(p, check, 1, -1, "args.a=1 new.a=1 flag=nil keep=yes");
    set(p, flag_check, 2, -1, "args.a=1 new.a=1 flag=true keep=yes");
    /* over its budget: stopped, one line, the args unchanged */
    char err[512] = "";
    ASSERT_EQ(ladmin_set_args(p, spin, 1, err, sizeof err), -1);
    ASSERT(strchr(err, '\n') == NULL && err[0] != '\0');
    set(p, check, 1, -1, "args.a=1 new.a=1 flag=nil keep=yes");
    ASSERT_EQ(ladmin_version(p), 0);
    ladmin_set_version(p, 3);
    ASSERT_EQ(ladmin_version(p), 3);
    policy_release(p);
}

/* No on_args: reading the missing global raises in the sandbox (its
 * strict globals); the pairs still go in, with no error. */
void test_ladmin_args_no_hook(void)
{
    policy_opts opts = {0};
    policy *p = unit_load_script("ladmin_strict",
        "function on_data(c, d) return ricochet.args.x end\n", &opts);
    char *x[] = {"x=y"};
    set(p, x, 1, 0, NULL);
    policy_release(p);
}
