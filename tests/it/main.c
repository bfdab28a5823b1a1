/* main.c -- the black-box runner: "it-tests CASE" or "it-tests" (all). */
#include "cases.h"
#include "harness.h"

#define IT_ROW(name) {#name, name},
static const test_case cases[] = {
    IT_CASES(IT_ROW)
    {NULL, NULL}
};

int main(int argc, char **argv)
{
    int rc = test_main(cases, argc, argv);
    if (rc == 0)
        it_server_all_passed();
    return rc;
}
