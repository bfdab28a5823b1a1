/* unit_main.c -- the main of a unit runner (see unit_main.h). */
#include "unit_main.h"

#include "net.h"

int unit_main(const test_case *cases, int argc, char **argv)
{
    int err = net_init();
    if (err < 0) {
        fprintf(stderr, "net_init: %s\n", err_strerror(err));
        return 1;
    }
    int rc = test_main(cases, argc, argv);
    net_cleanup();
    return rc;
}
